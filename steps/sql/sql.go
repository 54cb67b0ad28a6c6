// Package sql provides the PostgreSQL steps (pgx v5): sql.query reads,
// sql.exec changes data with an optional undo statement, sql.read-only
// freezes or unfreezes a whole database, and sql.sync runs the command that
// copies one database into another. They are what the env-swap strategy
// needs to move the data layer along with the traffic.
//
// Connection strings are sensitive params. Every error these steps return
// names the database as user@host:port/db and has the password (in every
// spelling: raw, URL-escaped, decoded) scrubbed from the driver's text;
// logs use the same redacted name. One pgx pool per DSN is created on first
// use and cached for the life of the process, so a gate polling every few
// seconds reuses its connection.
//
// Freezing writes is a step of its own rather than a pair of sql.exec
// statements, for three reasons. ALTER DATABASE needs the database's name,
// which lives inside a sensitive DSN the runbook cannot take apart. The
// undo must restore the state that was there before (frozen or not), which
// only a step that reads it first can know. And a database-level default
// only reaches new sessions: the sessions already open, the application's
// pool among them, keep writing until they are ended, so the step ends them
// and the application reconnects into the frozen database.
package sql

import (
	"context"
	"time"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// dsnParam is the connection string param every sql step takes.
var dsnParam = steps.Param{
	Name: "dsn", Type: steps.String, Required: true, Sensitive: true,
	Doc: "PostgreSQL connection string, as a URL (postgres://user:password@host:5432/db) or " +
		"keyword/value pairs (host=... dbname=...). PG* environment variables and the " +
		"password file fill in what it leaves out, as with psql.",
	Examples: []any{"postgres://app:secret@db.internal:5432/orders?sslmode=require"},
}

// argsParam is the bound-arguments param of sql.query and sql.exec.
var argsParam = steps.Param{
	Name: "args", Type: steps.List,
	Doc: "Values for the placeholders $1, $2, ... in order. The server infers each one's " +
		"type from the statement, so text such as \"42\" binds to an integer column.",
	Examples: []any{[]any{"2024-01-01", 42}},
}

// backstop is how much longer than the statement timeout a call may take
// in all, for getting a connection and reading the result: a server that
// stops answering must not hang the step forever.
const backstop = 30 * time.Second

// withBackstop bounds ctx by timeout plus backstop; a timeout of 0 leaves
// ctx as it is.
func withBackstop(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, timeout+backstop)
}
