// Package blackhole is a loopback TCP listener that accepts connections
// and never answers: the endpoint that hangs a client without a deadline.
// Tests point Octopus, HTTP and PostgreSQL clients at it to prove that a
// hung server fails the call when the caller's deadline passes.
package blackhole

import (
	"net"
	"sync"
	"testing"
)

// Listen starts a black hole on a free loopback port and returns its
// address (host:port). Connections are held open, unread, until the test
// ends.
func Listen(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}
