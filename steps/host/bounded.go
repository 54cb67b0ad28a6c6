package host

import (
	"fmt"
	"sync"
)

// boundedBuffer is an io.Writer that keeps at most limit bytes: the first
// half and the last half of what was written. Both ends matter: the head of
// a command's output says what it was doing, the tail says how it ended.
// What falls in between is replaced by a marker naming how much was cut.
type boundedBuffer struct {
	mu      sync.Mutex
	limit   int
	head    []byte
	tail    []byte // ring of the last limit/2 bytes once head is full
	start   int    // index of the oldest byte in tail when it is full
	dropped int64
}

func newBoundedBuffer(limit int) *boundedBuffer {
	if limit < 2 {
		limit = 2
	}
	return &boundedBuffer{limit: limit}
}

// Write never fails and never blocks the writer on a full buffer.
func (b *boundedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(p)
	headCap := b.limit / 2
	if room := headCap - len(b.head); room > 0 {
		k := min(room, len(p))
		b.head = append(b.head, p[:k]...)
		p = p[k:]
	}
	tailCap := b.limit - headCap
	for len(p) > 0 {
		if len(b.tail) < tailCap {
			k := min(tailCap-len(b.tail), len(p))
			b.tail = append(b.tail, p[:k]...)
			p = p[k:]
			continue
		}
		// The tail is full: overwrite its oldest bytes, counting them as dropped.
		k := min(tailCap, len(p))
		if len(p) > tailCap {
			// Only the last tailCap bytes of p can survive.
			b.dropped += int64(len(p) - tailCap)
			p = p[len(p)-tailCap:]
			k = tailCap
		}
		for i := 0; i < k; i++ {
			b.tail[b.start] = p[i]
			b.start = (b.start + 1) % tailCap
		}
		b.dropped += int64(k)
		p = p[k:]
	}
	return n, nil
}

// Truncated reports whether bytes were dropped.
func (b *boundedBuffer) Truncated() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.dropped > 0
}

// String returns what was kept, with a marker where bytes were dropped.
func (b *boundedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	tail := append(append([]byte{}, b.tail[b.start:]...), b.tail[:b.start]...)
	if b.dropped == 0 {
		return string(b.head) + string(tail)
	}
	return fmt.Sprintf("%s\n[... %d bytes truncated ...]\n%s", b.head, b.dropped, tail)
}

// lastBytes returns at most n bytes from the end of s, for error messages
// that quote a command's stderr.
func lastBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
