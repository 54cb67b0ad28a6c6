// Package pgtest starts throwaway PostgreSQL clusters for tests: initdb into
// a temporary directory, postgres on a free loopback port, password
// authentication over TCP, and everything removed when the test ends.
//
// Tests talk to a real server because the behaviour that matters here
// (statement timeouts, read-only databases, terminated sessions, pg_dump)
// cannot be faked convincingly. When the PostgreSQL binaries are missing a
// test is skipped with a message naming what to install, except under
// CI=true, where a missing binary fails the test: CI must never pass by
// skipping the integration tests.
package pgtest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Superuser is the name of the cluster's superuser role.
const Superuser = "postgres"

// Server is a running throwaway cluster.
type Server struct {
	// Host and Port are where the server listens (always loopback).
	Host string
	Port int
	// User and Password authenticate as the cluster's superuser. The
	// password is random and contains a recognisable marker so that
	// leak tests can search for it.
	User     string
	Password string
	// BinDir holds initdb, postgres, pg_dump and psql.
	BinDir string

	dir  string // owns data/, socket/ and postgres.log
	cmd  *exec.Cmd
	done chan struct{} // closed when the postmaster has exited
	cred *syscall.Credential

	mu  sync.Mutex
	seq int
}

// PasswordMarker starts every generated password; a leak test can look for
// it in any text without knowing which server produced it.
const PasswordMarker = "pgtestSecret"

// Start starts a cluster with the databases blue and green and stops it
// when t ends. It skips t (or fails it under CI=true) when PostgreSQL is not
// installed.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := requireBinDir(t)
	s, err := start(bin)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(s.Stop)
	for _, db := range []string{"blue", "green"} {
		if err := s.createDatabase(db); err != nil {
			t.Fatalf("pgtest: %v", err)
		}
	}
	return s
}

var (
	sharedMu  sync.Mutex
	shared    *Server
	sharedErr error
)

// Shared returns one cluster per test binary, started on first use, so that
// a package with many integration tests pays for initdb once. Each test
// should still make its own databases with NewDatabase. Call StopShared
// from TestMain after m.Run (Main does both).
func Shared(t testing.TB) *Server {
	t.Helper()
	bin := requireBinDir(t)
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared == nil && sharedErr == nil {
		shared, sharedErr = start(bin)
	}
	if sharedErr != nil {
		t.Fatalf("pgtest: %v", sharedErr)
	}
	return shared
}

// StopShared stops the cluster Shared started, if any.
func StopShared() {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared != nil {
		shared.Stop()
		shared = nil
	}
}

// Main runs the tests and then stops the shared cluster:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
func Main(m *testing.M) int {
	code := m.Run()
	StopShared()
	return code
}

// DSN returns a URL connection string for database db, with the password.
func (s *Server) DSN(db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(s.User, s.Password),
		Host:     net.JoinHostPort(s.Host, strconv.Itoa(s.Port)),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// NewDatabase creates an empty database with a unique name, drops it when t
// ends, and returns its name.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	s.mu.Lock()
	s.seq++
	name := fmt.Sprintf("db_%s_%d", sanitize(t.Name()), s.seq)
	s.mu.Unlock()
	if err := s.createDatabase(name); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// WITH (FORCE) terminates sessions a test left open (pools the
		// code under test caches per process) so the drop cannot hang.
		_ = s.admin(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", pgx.Identifier{name}.Sanitize()))
	})
	return name
}

// Exec runs statements on database db as the superuser; it fails t on error.
func (s *Server) Exec(t testing.TB, db, sql string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.DSN(db))
	if err != nil {
		t.Fatalf("pgtest: connect to %s: %v", db, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("pgtest: exec on %s: %v", db, err)
	}
}

// QueryInt runs a query returning one integer on database db; it fails t on
// error.
func (s *Server) QueryInt(t testing.TB, db, sql string, args ...any) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.DSN(db))
	if err != nil {
		t.Fatalf("pgtest: connect to %s: %v", db, err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
		t.Fatalf("pgtest: query on %s: %v", db, err)
	}
	return n
}

// Stop shuts the server down (fast shutdown: open sessions are
// disconnected) and removes its directory. It is safe to call twice.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-s.done:
		case <-time.After(20 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	}
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
		s.dir = ""
	}
}

// Bin returns the path of a PostgreSQL program (pg_dump, psql, ...).
func (s *Server) Bin(name string) string { return filepath.Join(s.BinDir, name) }

func (s *Server) createDatabase(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.admin(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// admin runs one statement on the maintenance database.
func (s *Server) admin(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// sanitize turns a test name into something usable in a database name.
func sanitize(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := b.String()
	if len(s) > 40 {
		s = s[:40]
	}
	return s
}
