package engine

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// A run's secrets are the values of its sensitive inputs, every string
// computed from them (taint.go), and the process's credentials
// (steps.KnownCredentials). Each carries, when it has one, an expression over
// the inputs that computes it again ("inputs.pw", "upper(inputs.pw)"):
// the journal stores that reference in place of the value, and rollback
// evaluates it, so a secret is never written down and never lost.
type secret struct {
	value string
	ref   string
}

type secretSet struct {
	mu   sync.RWMutex
	list []secret
	// added is told each new value (the log filter).
	added func(string)
}

// add registers a secret. A value already known keeps its first reference
// unless it had none.
func (s *secretSet) add(value, ref string) {
	if value == "" {
		return
	}
	s.mu.Lock()
	for i := range s.list {
		if s.list[i].value == value {
			if s.list[i].ref == "" {
				s.list[i].ref = ref
			}
			s.mu.Unlock()
			return
		}
	}
	s.list = append(s.list, secret{value, ref})
	// Longest first, so a secret containing another is replaced whole.
	sort.SliceStable(s.list, func(i, j int) bool { return len(s.list[i].value) > len(s.list[j].value) })
	added := s.added
	s.mu.Unlock()
	if added != nil {
		added(value)
	}
}

// all returns the run's secrets and the process's credentials.
func (s *secretSet) all() []secret {
	if s == nil {
		return nil
	}
	s.mu.RLock()
	out := append([]secret(nil), s.list...)
	s.mu.RUnlock()
	for _, c := range steps.KnownCredentials() {
		out = append(out, secret{value: c})
	}
	return longestFirst(out)
}

// addInput registers a sensitive input's value: a scalar whole, a list or
// map by each of its values (with the path that reads it).
func (s *secretSet) addInput(ref string, v any) {
	switch x := v.(type) {
	case []any:
		for i, e := range x {
			s.addInput(fmt.Sprintf("%s[%d]", ref, i), e)
		}
	case map[string]any:
		for k, e := range x {
			s.addInput(fmt.Sprintf("%s[%q]", ref, k), e)
		}
	case nil:
	default:
		s.add(steps.FormatValue(x), ref)
	}
}

// shortSecret is the length under which a secret is masked only where it
// stands as a whole token (see maskText).
const shortSecret = 4

// maskText replaces every secret in s with steps.Redaction. A secret of
// four characters or more is replaced wherever it occurs. A shorter one is
// replaced only where it stands alone, between characters that are not
// letters or digits (or the ends of the text): masking a one-character
// secret "1" inside every number of every log line would make the logs
// unreadable and, by showing where it was masked, tell the secret anyway,
// while "pin=1", "[1]" or a field whose whole value is "1" are exactly
// where a short secret appears. Values whose whole text is a secret are
// masked whatever their length by maskValue.
func maskText(s string, secrets []secret) string {
	for _, sec := range secrets {
		v := sec.value
		if v == "" || !strings.Contains(s, v) {
			continue
		}
		if len(v) >= shortSecret {
			s = strings.ReplaceAll(s, v, steps.Redaction)
			continue
		}
		s = replaceTokens(s, v, steps.Redaction)
	}
	return s
}

// replaceTokens replaces the occurrences of v in s that are not part of a
// longer word.
func replaceTokens(s, v, with string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, v)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		before, _ := utf8.DecodeLastRuneInString(s[:i])
		after, _ := utf8.DecodeRuneInString(s[i+len(v):])
		b.WriteString(s[:i])
		if (i == 0 || !isWordRune(before)) && (i+len(v) == len(s) || !isWordRune(after)) {
			b.WriteString(with)
		} else {
			b.WriteString(v)
		}
		s = s[i+len(v):]
	}
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// maskValue masks secrets in a value: strings by maskText, a string that
// is a secret whatever its length, recursively through lists and maps.
func maskValue(v any, secrets []secret) any {
	if len(secrets) == 0 {
		return v
	}
	switch x := v.(type) {
	case string:
		for _, sec := range secrets {
			if x == sec.value {
				return steps.Redaction
			}
		}
		return maskText(x, secrets)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = maskValue(e, secrets)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = maskValue(e, secrets)
		}
		return out
	}
	return v
}

// longestFirst orders secrets so that one containing another is replaced
// whole.
func longestFirst(s []secret) []secret {
	sort.SliceStable(s, func(i, j int) bool { return len(s[i].value) > len(s[j].value) })
	return s
}
