package engine

import (
	"bytes"
	"encoding/json"
	"io"
	"sync"
)

// SecretWriter replaces known secrets in everything written through it
// with "***". The CLI puts it under its logger, and the executor registers
// each run's sensitive input values, so a step that logs a value it should
// not (a DSN in a driver's error, say) still cannot leak it. Events are
// scrubbed by the executor itself; this is the second line of defence.
type SecretWriter struct {
	mu      sync.RWMutex
	w       io.Writer
	secrets [][]byte
}

// NewSecretWriter wraps w.
func NewSecretWriter(w io.Writer) *SecretWriter { return &SecretWriter{w: w} }

// Add registers a secret. Its JSON-escaped form is registered too, since a
// JSON log line carries values escaped. Short values are ignored: masking
// "1" would garble every line.
func (s *SecretWriter) Add(secret string) {
	if len(secret) < 4 {
		return
	}
	forms := [][]byte{[]byte(secret)}
	if b, err := json.Marshal(secret); err == nil {
		if esc := b[1 : len(b)-1]; !bytes.Equal(esc, forms[0]) {
			forms = append(forms, esc)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range forms {
		dup := false
		for _, have := range s.secrets {
			if bytes.Equal(have, f) {
				dup = true
			}
		}
		if !dup {
			s.secrets = append(s.secrets, f)
		}
	}
}

// Write writes p with every registered secret replaced. It reports len(p)
// written on success, as callers expect of a filter.
func (s *SecretWriter) Write(p []byte) (int, error) {
	s.mu.RLock()
	out := p
	for _, sec := range s.secrets {
		if bytes.Contains(out, sec) {
			out = bytes.ReplaceAll(out, sec, []byte("***"))
		}
	}
	s.mu.RUnlock()
	if _, err := s.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// SecretSink is what the executor registers sensitive values with.
type SecretSink interface{ Add(secret string) }
