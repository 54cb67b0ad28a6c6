package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// This file finds the PostgreSQL binaries and brings a cluster up: initdb
// into a temporary directory, then postgres on a free loopback port.

// requireBinDir finds the PostgreSQL binaries or skips/fails t.
func requireBinDir(t testing.TB) string {
	t.Helper()
	bin, err := BinDir()
	if err == nil {
		return bin
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("pgtest: %v (CI=true: integration tests must not be skipped; install the postgresql package)", err)
	}
	t.Skipf("pgtest: %v; install PostgreSQL (apt-get install -y postgresql) to run this test", err)
	return ""
}

// BinDir locates the directory with initdb and postgres: $PG_BIN when set,
// else `pg_config --bindir`, else the newest /usr/lib/postgresql/*/bin
// (Debian puts the server binaries there, off PATH), else initdb on PATH.
func BinDir() (string, error) {
	has := func(dir string) bool {
		for _, b := range []string{"initdb", "postgres"} {
			if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
				return false
			}
		}
		return true
	}
	if dir := os.Getenv("PG_BIN"); dir != "" {
		if has(dir) {
			return dir, nil
		}
		return "", fmt.Errorf("PG_BIN=%s has no initdb and postgres", dir)
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		if dir := strings.TrimSpace(string(out)); has(dir) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, dir := range dirs {
		if has(dir) {
			return dir, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil && has(filepath.Dir(p)) {
		return filepath.Dir(p), nil
	}
	return "", errors.New("PostgreSQL server binaries (initdb, postgres) not found")
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// start runs initdb and postgres. Binding a free port is racy (another
// process may take it between our probe and postgres's bind), so a failed
// start on a port conflict is retried on a new port.
func start(bin string) (*Server, error) {
	cred, err := serverCredential()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	s := &Server{Host: "127.0.0.1", User: Superuser, BinDir: bin, dir: dir, cred: cred}
	s.Password = PasswordMarker + "-" + randomHex(12)
	if err := s.initdb(); err != nil {
		s.Stop()
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		err = s.launch()
		if err == nil {
			return s, nil
		}
		if attempt == 2 || !errors.Is(err, errPortInUse) {
			s.Stop()
			return nil, err
		}
	}
}

// serverCredential returns who the server runs as: postgres refuses to run
// as root, so a root test process starts it as the postgres user. The
// credential is set on the child directly rather than through runuser or su,
// so no wrapper process sits between the test and the postmaster and the
// parent-death signal reaches postgres itself.
func serverCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root and there is no postgres user to run the server as: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func (s *Server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(s.Bin(name), args...)
	cmd.Dir = s.dir
	// LC_ALL=C keeps initdb away from locales the machine may not have.
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Pdeathsig: syscall.SIGQUIT}
	return cmd
}

func (s *Server) initdb() error {
	if s.cred != nil {
		if err := os.Chown(s.dir, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			return fmt.Errorf("chown %s: %w", s.dir, err)
		}
	}
	pwfile := filepath.Join(s.dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(s.Password+"\n"), 0o600); err != nil {
		return err
	}
	if s.cred != nil {
		if err := os.Chown(pwfile, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			return fmt.Errorf("chown %s: %w", pwfile, err)
		}
	}
	defer os.Remove(pwfile)
	out, err := s.command("initdb",
		"-D", filepath.Join(s.dir, "data"),
		"-U", s.User,
		"--pwfile", pwfile,
		// TCP needs the password, so DSNs in tests carry a real secret
		// that the redaction tests can look for.
		"--auth-host=scram-sha-256",
		"--auth-local=trust",
		"--encoding=UTF8", "--locale=C",
		"--no-sync",
	).CombinedOutput()
	if err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	return os.MkdirAll(filepath.Join(s.dir, "socket"), 0o755)
}

var errPortInUse = errors.New("port in use")

func (s *Server) launch() error {
	port, err := freePort()
	if err != nil {
		return err
	}
	if s.cred != nil {
		_ = os.Chown(filepath.Join(s.dir, "socket"), int(s.cred.Uid), int(s.cred.Gid))
	}
	logPath := filepath.Join(s.dir, "postgres.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	s.Port = port
	// Settings for a disposable cluster: no durability, small memory, and
	// loopback only.
	s.cmd = s.command("postgres",
		"-D", filepath.Join(s.dir, "data"),
		"-p", strconv.Itoa(port),
		"-c", "listen_addresses="+s.Host,
		"-c", "unix_socket_directories="+filepath.Join(s.dir, "socket"),
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		"-c", "shared_buffers=16MB",
		"-c", "max_connections=60",
		"-c", "logging_collector=off",
	)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	s.done = make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(s.done) }()

	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-s.done:
			log, _ := os.ReadFile(logPath)
			s.cmd = nil
			if strings.Contains(string(log), "Address already in use") {
				return errPortInUse
			}
			return fmt.Errorf("postgres exited during start:\n%s", log)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, s.DSN("postgres"))
		if err == nil {
			conn.Close(ctx)
			cancel()
			return nil
		}
		cancel()
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres not ready after 60s: %v\n%s", err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
