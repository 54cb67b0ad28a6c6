package servicemsg

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
)

// marker starts every service message. Calamari's parser
// (Calamari.Common/Plumbing/ServiceMessages/ServiceMessageParser.cs) looks
// for it anywhere in a stdout line, case-sensitively, and keeps its state
// from one line to the next: a line that ends in "##oct" and a next line
// that starts with "opus[" make a message, and a line that holds
// "##octopus[" without "]" swallows the lines after it, our own messages
// included, until a "]" comes.
const marker = "##octopus"

// Stdout is a step's standard output, shared by bluegreen's own service
// messages and everything else bluegreen prints there (logs, step outputs,
// command and SQL output, runbook authors' messages, errors). Only the
// messages reach Octopus as messages: every other byte goes through Text,
// which neutralises the marker so that Calamari never sees it, so nothing
// a command or a runbook prints can set an output variable, attach an
// artifact or hide the lines after it.
//
// Text follows the parser character by character. A "#" that may start the
// marker is held back; when the held bytes would complete the marker, a
// space is put after the first "#" ("# #octopus", which the parser reads as
// two failed starts); when a line ends while bytes are held, a space is
// put before the line break, so the parser cannot carry a half marker into
// the next line (line breaks are \n and \r, as .NET splits process output).
type Stdout struct {
	mu        sync.Mutex
	w         io.Writer
	held      []byte
	lineStart bool
}

// NewStdout returns a Stdout writing to w (normally os.Stdout).
func NewStdout(w io.Writer) *Stdout { return &Stdout{w: w, lineStart: true} }

// Text returns the writer for everything that is not a service message.
func (s *Stdout) Text() io.Writer { return textWriter{s} }

type textWriter struct{ s *Stdout }

func (t textWriter) Write(p []byte) (int, error) {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	if b := t.s.neutral(p); len(b) > 0 {
		if err := t.s.write(b); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// neutral returns p neutralised and keeps the parser's state for the next
// call; the caller holds the lock.
func (s *Stdout) neutral(p []byte) []byte {
	out := make([]byte, 0, len(p)+8)
	for _, c := range p {
		switch {
		case c == '\n' || c == '\r':
			if len(s.held) > 0 {
				out = append(append(out, s.held...), ' ')
				s.held = s.held[:0]
			}
			out = append(out, c)
		case len(s.held) > 0:
			cand := append(s.held, c)
			switch {
			case string(cand) == marker:
				out = append(out, "# #octopus"...)
				s.held = s.held[:0]
			case strings.HasPrefix(marker, string(cand)):
				s.held = cand
			default:
				// The parser drops back to its start state on c without
				// looking at c again (even when c is '#'), so neither do we.
				out = append(append(out, s.held...), c)
				s.held = s.held[:0]
			}
		case c == '#':
			s.held = append(s.held, c)
		default:
			out = append(out, c)
		}
	}
	if len(out) > 0 {
		s.lineStart = out[len(out)-1] == '\n' || out[len(out)-1] == '\r'
	}
	return out
}

// message writes one whole service message line. Text held back is
// written first with a space that ends any half marker, and a partial line
// of text is ended, so the message starts on its own line with the parser
// in its start state.
func (s *Stdout) message(line string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.write(s.messageBytes(nil, line))
}

func (s *Stdout) messageBytes(out []byte, line string) []byte {
	if len(s.held) > 0 {
		out = append(append(out, s.held...), ' ')
		s.held = s.held[:0]
		s.lineStart = false
	}
	if !s.lineStart {
		out = append(out, '\n')
	}
	s.lineStart = true
	return append(out, line...)
}

// leveled writes a level switch, text at that level (neutralised) and the
// switch back as one write, so that no other output lands in between.
func (s *Stdout) leveled(level, text string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.messageBytes(nil, "##octopus["+level+"]\n")
	b = append(b, s.neutral([]byte(strings.TrimRight(text, "\n")+"\n"))...)
	return s.write(s.messageBytes(b, "##octopus[stdout-default]\n"))
}

// Flush writes text held back at the end of the output.
func (s *Stdout) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.held) == 0 {
		return nil
	}
	b := append([]byte(nil), s.held...)
	s.held = s.held[:0]
	return s.write(b)
}

func (s *Stdout) write(b []byte) error {
	if _, err := s.w.Write(b); err != nil {
		return fmt.Errorf("write to stdout: %w", err)
	}
	if f, ok := s.w.(interface{ Flush() error }); ok {
		if err := f.Flush(); err != nil {
			return fmt.Errorf("flush stdout: %w", err)
		}
	}
	return nil
}

// shared is the Stdout of the running process in Octopus mode, set by the
// CLI, so that steps that write service messages themselves
// (octopus.output) go through the same stream as everything else.
var shared atomic.Pointer[Stdout]

// SetShared makes s the process's Stdout for Shared (nil to unset).
func SetShared(s *Stdout) { shared.Store(s) }

// Shared returns the process's Stdout when the CLI runs in Octopus mode,
// otherwise fallback.
func Shared(fallback io.Writer) io.Writer {
	if s := shared.Load(); s != nil {
		return s
	}
	return fallback
}
