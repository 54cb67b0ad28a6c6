package pgtest

import (
	"context"
	"os"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func TestStartCreatesBlueAndGreen(t *testing.T) {
	s := Start(t)
	for _, db := range []string{"blue", "green"} {
		s.Exec(t, db, "CREATE TABLE t (n int); INSERT INTO t VALUES (1), (2)")
		if n := s.QueryInt(t, db, "SELECT count(*) FROM t"); n != 2 {
			t.Fatalf("%s: count = %d, want 2", db, n)
		}
	}
	if !strings.Contains(s.DSN("blue"), s.Password) || !strings.HasPrefix(s.Password, PasswordMarker) {
		t.Fatalf("DSN %q does not carry the generated password", s.DSN("blue"))
	}
	dir := s.dir
	s.Stop()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("Stop left %s behind (stat: %v)", dir, err)
	}
}

func TestSharedNewDatabaseIsolated(t *testing.T) {
	s := Shared(t)
	a, b := s.NewDatabase(t), s.NewDatabase(t)
	if a == b {
		t.Fatalf("NewDatabase returned %q twice", a)
	}
	s.Exec(t, a, "CREATE TABLE only_in_a (n int)")
	if n := s.QueryInt(t, b, "SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'"); n != 0 {
		t.Fatalf("table created in %s is visible in %s", a, b)
	}
}

func TestWrongPasswordIsRejected(t *testing.T) {
	s := Shared(t)
	bad := &Server{Host: s.Host, Port: s.Port, User: s.User, Password: "wrong"}
	ctx := t.Context()
	if err := bad.admin(ctx, "SELECT 1"); err == nil {
		t.Fatal("connected with a wrong password: the cluster does not enforce password auth, so leak tests would prove nothing")
	}
}

// stubTB records how a helper ended a test instead of ending it.
type stubTB struct {
	testing.TB
	ended string
}

type stop struct{}

func (s *stubTB) Helper()                  {}
func (s *stubTB) Fatalf(string, ...any)    { s.ended = "failed"; panic(stop{}) }
func (s *stubTB) Skipf(string, ...any)     { s.ended = "skipped"; panic(stop{}) }
func (s *stubTB) Cleanup(func())           {}
func (s *stubTB) Name() string             { return "stub" }
func (s *stubTB) Logf(string, ...any)      {}
func (s *stubTB) Errorf(string, ...any)    { s.ended = "failed" }
func (s *stubTB) Context() context.Context { return context.Background() }

func TestMissingPostgresSkipsLocallyAndFailsOnCI(t *testing.T) {
	t.Setenv("PG_BIN", t.TempDir()) // a directory without initdb
	for _, tc := range []struct{ ci, want string }{{"", "skipped"}, {"true", "failed"}} {
		t.Setenv("CI", tc.ci)
		tb := &stubTB{TB: t}
		func() {
			defer func() {
				if r := recover(); r != nil {
					if _, ok := r.(stop); !ok {
						panic(r)
					}
				}
			}()
			Start(tb)
		}()
		if tb.ended != tc.want {
			t.Errorf("CI=%q: the test was %q, want %q", tc.ci, tb.ended, tc.want)
		}
	}
}
