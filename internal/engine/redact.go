package engine

import (
	"encoding/json"
	"io"
	"sync"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// SecretWriter replaces known secrets in everything written through it
// with "***". The CLI puts it under its logger, and the executor registers
// each run's secrets (sensitive input values and the values computed from
// them), so a step that logs a value it should not (a DSN in a driver's
// error, say) still cannot leak it. The process's credentials
// (steps.KnownCredentials) are masked too. Events are scrubbed by the
// executor itself; this is the second line of defence.
type SecretWriter struct {
	mu      sync.RWMutex
	w       io.Writer
	secrets []secret
}

// NewSecretWriter wraps w.
func NewSecretWriter(w io.Writer) *SecretWriter { return &SecretWriter{w: w} }

// Add registers a secret, whatever its length (see maskText for how short
// ones are masked). Its JSON-escaped form is registered too, since a JSON
// log line carries values escaped.
func (s *SecretWriter) Add(value string) {
	if value == "" {
		return
	}
	forms := []string{value}
	if b, err := json.Marshal(value); err == nil {
		if esc := string(b[1 : len(b)-1]); esc != value {
			forms = append(forms, esc)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
next:
	for _, f := range forms {
		for _, have := range s.secrets {
			if have.value == f {
				continue next
			}
		}
		s.secrets = append(s.secrets, secret{value: f})
	}
}

// Write writes p with every registered secret replaced. It reports len(p)
// written on success, as callers expect of a filter.
func (s *SecretWriter) Write(p []byte) (int, error) {
	s.mu.RLock()
	secrets := append([]secret(nil), s.secrets...)
	s.mu.RUnlock()
	for _, c := range steps.KnownCredentials() {
		secrets = append(secrets, secret{value: c})
	}
	out := p
	if len(secrets) > 0 {
		out = []byte(maskText(string(p), longestFirst(secrets)))
	}
	if _, err := s.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// SecretSink is what the executor registers sensitive values with.
type SecretSink interface{ Add(secret string) }

// To returns a writer over w that masks the same secrets (and the
// credentials): the CLI prints its final error through it.
func (s *SecretWriter) To(w io.Writer) *SecretWriter {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return &SecretWriter{w: w, secrets: append([]secret(nil), s.secrets...)}
}
