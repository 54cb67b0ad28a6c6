// Command testapp is one copy of the same-host tests' application.
//
//	testapp -dir RELEASE -port 8081 [-pidfile FILE]   serve RELEASE's colour
//	testapp -link CURRENT -port 8080                  resolve CURRENT per request
//
// On SIGTERM or SIGINT it stops accepting connections, finishes the
// requests in flight and exits, as a well-behaved application does when a
// release stops its old copy.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/testapp"
)

func main() {
	dir := flag.String("dir", "", "release folder to serve (colour read once at start)")
	link := flag.String("link", "", "symlink to resolve on every request")
	port := flag.Int("port", 0, "loopback port to listen on")
	pidfile := flag.String("pidfile", "", "write the process id here once listening")
	startDelay := flag.Duration("start-delay", 0, "wait this long before listening, like an application warming up")
	flag.Parse()
	if err := run(*dir, *link, *port, *pidfile, *startDelay); err != nil {
		log.Fatalf("testapp: %v", err)
	}
}

func run(dir, link string, port int, pidfile string, startDelay time.Duration) error {
	var colour func() (string, error)
	switch {
	case dir != "" && link == "":
		c, err := testapp.FolderColour(dir)
		if err != nil {
			return err
		}
		colour = c
	case link != "" && dir == "":
		colour = testapp.LinkColour(link)
	default:
		return errors.New("give exactly one of -dir and -link")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	time.Sleep(startDelay)
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return err
	}
	if pidfile != "" {
		if err := os.WriteFile(pidfile, []byte(fmt.Sprintln(os.Getpid())), 0o644); err != nil {
			return err
		}
		defer os.Remove(pidfile)
	}
	srv := &http.Server{Handler: testapp.Handler(colour), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Shutdown closes the listener at once (the port is free for the next
	// copy), closes idle keep-alive connections and waits for active ones.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}
