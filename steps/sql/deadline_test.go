package sql

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/blackhole"
	"github.com/bluegreen-deploy/bluegreen/steps/steptest"
)

// TestHungServerFailsTheCall: a PostgreSQL address that accepts the
// connection and never speaks fails sql.query when the caller's deadline
// (a gate's or a step's) passes, and a DSN without connect_timeout gets
// one, so even a statement with timeout 0 cannot hang on connecting.
func TestHungServerFailsTheCall(t *testing.T) {
	dsn := "postgres://app:pw@" + blackhole.Listen(t) + "/app?sslmode=disable"
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := steptest.Run(ctx, t, "sql.query", map[string]any{"dsn": dsn, "query": "SELECT 1", "timeout": "0s"}, steptest.Options{}).Err
	took := time.Since(start)
	if err == nil || took >= DefaultConnectTimeout {
		t.Fatalf("after %s: err = %v; want the caller's deadline", took, err)
	}
	if strings.Contains(err.Error(), "pw@") {
		t.Errorf("the error quotes the DSN's password: %v", err)
	}
	t.Logf("hung PostgreSQL server: failed after %s: %v", took, err)

	db, err := pools.open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if got := db.(*pgxDB).pool.Config().ConnConfig.ConnectTimeout; got != DefaultConnectTimeout {
		t.Errorf("connect timeout = %s, want %s", got, DefaultConnectTimeout)
	}
	db2, err := pools.open(dsn + "&connect_timeout=3")
	if err != nil {
		t.Fatal(err)
	}
	if got := db2.(*pgxDB).pool.Config().ConnConfig.ConnectTimeout; got != 3*time.Second {
		t.Errorf("connect_timeout in the DSN: %s, want 3s", got)
	}
}
