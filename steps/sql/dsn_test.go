package sql

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestRedactDSN(t *testing.T) {
	t.Setenv("PGHOST", "")
	t.Setenv("PGPORT", "")
	t.Setenv("PGUSER", "")
	t.Setenv("PGDATABASE", "")
	t.Setenv("PGPASSWORD", "")
	for _, tc := range []struct {
		name, dsn, want string
	}{
		{"url", "postgres://app:s3cret@db.internal:5433/orders?sslmode=disable", "app@db.internal:5433/orders"},
		{"postgresql scheme and default port", "postgresql://app:s3cret@db.internal/orders?sslmode=disable", "app@db.internal:5432/orders"},
		{"escaped password", "postgres://app:p%40ss%2Fw%3Ard@10.0.0.5:5432/orders?sslmode=disable", "app@10.0.0.5:5432/orders"},
		{"keyword value", "host=db.internal port=6432 user=app password='s3 cret' dbname=orders sslmode=disable", "app@db.internal:6432/orders"},
		{"several hosts", "postgres://app:s3cret@a.internal:5432,b.internal:5433/orders?sslmode=disable", "app@a.internal:5432,b.internal:5433/orders"},
		{"ipv6", "postgres://app:s3cret@[::1]:5432/orders?sslmode=disable", "app@[::1]:5432/orders"},
		{"unix socket", "host=/var/run/postgresql user=app dbname=orders", "app@/var/run/postgresql/orders"},
		// pgx rejects these; the hand parser must still find the parts.
		{"bad port", "postgres://app:s3cret@db.internal:notaport/orders", "app@db.internal:notaport/orders"},
		{"unescaped @ in password", "postgres://app:s3@cret@db.internal:99999/orders", "app@db.internal:99999/orders"},
		{"garbage", "::::", "<unparsable dsn>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := newTarget(tc.dsn).name
			if got != tc.want {
				t.Errorf("target name of %q = %q, want %q", tc.dsn, got, tc.want)
			}
			if strings.Contains(got, "cret") || strings.Contains(got, "p@ss") || strings.Contains(got, "%40") {
				t.Errorf("target name of %q = %q contains (part of) the password", tc.dsn, got)
			}
		})
	}
}

func TestScrubRemovesEverySpellingOfThePassword(t *testing.T) {
	dsn := "postgres://app:p%40ss%2Fw%3Ard%20x@db.internal:5432/orders?sslmode=disable"
	tg := newTarget(dsn)
	for _, text := range []string{
		"connecting with " + dsn,
		"password p@ss/w:rd x was rejected",
		"cannot parse `postgres://app:p%40ss%2Fw%3Ard%20x@db`",
		"query string form p%40ss%2Fw%3Ard+x",
	} {
		got := tg.scrub(text)
		for _, secret := range []string{"p@ss/w:rd x", "p%40ss%2Fw%3Ard%20x", "p%40ss%2Fw%3Ard+x"} {
			if strings.Contains(got, secret) {
				t.Errorf("scrub(%q) = %q still contains %q", text, got, secret)
			}
		}
		if !strings.Contains(got, "***") {
			t.Errorf("scrub(%q) = %q has no redaction marker", text, got)
		}
	}
}

// TestWrapScrubsParseErrors feeds pgx a DSN it cannot parse: pgx documents
// that its parse error redacts passwords only on a best-effort basis.
func TestWrapScrubsParseErrors(t *testing.T) {
	for _, dsn := range []string{
		"postgres://app:hunter2secret@db.internal:notaport/orders",
		"postgres://app:hunter2@secret@db.internal:5432/orders?sslmode=bogus",
		"host=db.internal password=hunter2secret port=notaport",
		"host=db.internal password='hunter2secret",
	} {
		_, perr := pools.open(dsn)
		if perr == nil {
			t.Fatalf("pools.open(%q) succeeded; want a parse error", dsn)
		}
		err := newTarget(dsn).wrap("connect", perr, 0)
		for _, secret := range []string{"hunter2secret", "hunter2@secret", "hunter2"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error for %q leaks %q: %v", dsn, secret, err)
			}
		}
		var e *Error
		if !errors.As(err, &e) || e.Op != "connect" {
			t.Errorf("error for %q is %T %v, want *Error with Op connect", dsn, err, err)
		}
		if errors.Unwrap(err) != nil {
			t.Errorf("error for %q unwraps to %v: the driver's text must not be reachable", dsn, errors.Unwrap(err))
		}
	}
}

func TestWrapExplainsStatementTimeout(t *testing.T) {
	tg := newTarget("postgres://app:pw@db:5432/orders")
	pgErr := &pgconn.PgError{Severity: "ERROR", Code: "57014", Message: "canceling statement due to statement timeout"}
	err := tg.wrap("query", fmt.Errorf("run: %w", pgErr), 2*time.Second)
	var e *Error
	if !errors.As(err, &e) || e.Code != "57014" {
		t.Fatalf("wrap = %#v, want an *Error with Code 57014", err)
	}
	want := "query on app@db:5432/orders: statement timed out after 2s (run: ERROR: canceling statement due to statement timeout (SQLSTATE 57014))"
	if err.Error() != want {
		t.Errorf("wrap = %q\nwant    %q", err.Error(), want)
	}
}

func TestWrapKeepsContextErrors(t *testing.T) {
	tg := newTarget("postgres://app:pw@db:5432/orders")
	err := tg.wrap("query", fmt.Errorf("timeout: %w", context.DeadlineExceeded), 0)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("errors.Is(%v, DeadlineExceeded) = false", err)
	}
	if tg.wrap("query", nil, 0) != nil {
		t.Error("wrap(nil) != nil")
	}
}
