package host

import (
	"strings"
	"testing"
)

func TestBoundedBuffer(t *testing.T) {
	tests := []struct {
		name   string
		limit  int
		writes []string
		want   string
		trunc  bool
	}{
		{"empty", 8, nil, "", false},
		{"fits", 8, []string{"abc", "def"}, "abcdef", false},
		{"exactly full", 8, []string{"abcdefgh"}, "abcdefgh", false},
		{"one write over", 8, []string{"abcdefghij"}, "abcd\n[... 2 bytes truncated ...]\nghij", true},
		{"many small writes", 8, []string{"ab", "cd", "ef", "gh", "ij", "kl"}, "abcd\n[... 4 bytes truncated ...]\nijkl", true},
		{"ring wraps unevenly", 8, []string{"abcd", "efg", "hij", "k"}, "abcd\n[... 3 bytes truncated ...]\nhijk", true},
		{"huge write", 4, []string{strings.Repeat("x", 100) + "yz"}, "xx\n[... 98 bytes truncated ...]\nyz", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBoundedBuffer(tt.limit)
			for _, w := range tt.writes {
				if n, err := b.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write(%q) = %d, %v", w, n, err)
				}
			}
			if got := b.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if b.Truncated() != tt.trunc {
				t.Errorf("Truncated() = %v, want %v", b.Truncated(), tt.trunc)
			}
		})
	}
}
