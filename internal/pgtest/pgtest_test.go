package pgtest

import (
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
