package sql

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// database is what the sql steps need from a PostgreSQL server. pgxDB is
// the real one; unit tests use a fake, so param handling, undo journaling
// and redaction are tested without a server.
type database interface {
	// Query runs one statement in a READ ONLY transaction, so that a step
	// declared read-only (and usable as a gate) cannot change data whatever
	// SQL it is given. A timeout above zero becomes the transaction's
	// statement_timeout. More than maxRows rows is an error.
	Query(ctx context.Context, sql string, args []any, timeout time.Duration, maxRows int) (*result, error)
	// Exec runs a statement outside any transaction block, so that
	// statements that refuse one (CREATE INDEX CONCURRENTLY, VACUUM) work.
	// Without args several statements separated by semicolons may be given.
	Exec(ctx context.Context, sql string, args []any, timeout time.Duration) (int64, error)
	// Reset closes the pooled connections, so that the next statement runs
	// in a new session that sees the database's current defaults.
	Reset()
}

// result is what Query returns: the column names in order and the rows,
// with values already converted to the Go types expressions work with.
type result struct {
	columns []string
	rows    []map[string]any
}

// opener returns the database for a DSN.
type opener func(dsn string) (database, error)

// pools caches one pgx pool per DSN for the life of the process: a gate that
// polls every few seconds must not pay for a new connection each time.
var pools = &poolCache{pools: map[string]*pgxDB{}}

type poolCache struct {
	mu    sync.Mutex
	pools map[string]*pgxDB
}

// open returns the cached pool for dsn or creates one. Creating a pool
// does not connect; the first statement does.
func (c *poolCache) open(dsn string) (database, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if db, ok := c.pools[dsn]; ok {
		return db, nil
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	// A runbook issues a handful of statements at a time; a small pool is
	// plenty and keeps bluegreen from crowding a production server.
	cfg.MaxConns = 4
	cfg.MaxConnIdleTime = time.Minute
	// Describe-then-execute lets the server infer parameter types, so
	// arguments that arrive as text from Octopus bind to any column type,
	// and caches no prepared statements that a schema change made by a
	// sync could invalidate.
	cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeDescribeExec
	// A server that accepts the connection and never speaks must fail the
	// connection, not hang it: without connect_timeout in the DSN, pgx
	// waits as long as the caller's context allows, which is forever for
	// a statement with timeout 0.
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "bluegreen"
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, err
	}
	db := &pgxDB{pool: pool}
	c.pools[dsn] = db
	return db, nil
}

// connect opens the database a step's DSN names and returns it with the
// DSN's redacted name and secrets. A failure has the password scrubbed
// (the invocation names the step kind).
func connect(open opener, dsn string) (database, *target, error) {
	t := newTarget(dsn)
	db, err := open(dsn)
	if err != nil {
		return nil, t, t.wrap("connect", err, 0)
	}
	return db, t, nil
}

// DefaultConnectTimeout bounds connecting to a server whose DSN sets no
// connect_timeout.
const DefaultConnectTimeout = 10 * time.Second

// pgxDB is a database backed by a pgx pool.
type pgxDB struct {
	pool *pgxpool.Pool
}

// millis renders a timeout for statement_timeout, at least 1ms (0 would
// mean no timeout at all).
func millis(d time.Duration) string {
	return strconv.FormatInt(max(int64(d/time.Millisecond), 1), 10)
}

func (d *pgxDB) Query(ctx context.Context, sql string, args []any, timeout time.Duration, maxRows int) (*result, error) {
	conn, err := d.pool.Acquire(ctx)
	if err != nil {
		return nil, connectError{err}
	}
	// A connection released inside a transaction (after an error or a
	// cancellation) is closed by the pool rather than reused, so no
	// half-finished transaction can leak into the next call.
	defer conn.Release()
	begin := "BEGIN READ ONLY"
	if timeout > 0 {
		begin += "; SET LOCAL statement_timeout = " + millis(timeout)
	}
	if _, err := conn.Exec(ctx, begin); err != nil {
		return nil, err
	}
	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	res := &result{}
	for _, f := range rows.FieldDescriptions() {
		res.columns = append(res.columns, f.Name)
	}
	for rows.Next() {
		if maxRows > 0 && len(res.rows) == maxRows {
			rows.Close()
			return nil, fmt.Errorf("the query returned more than max_rows (%d) rows; aggregate it or raise max_rows", maxRows)
		}
		vals, err := rows.Values()
		if err != nil {
			rows.Close()
			return nil, err
		}
		row := make(map[string]any, len(vals))
		for i, v := range vals {
			row[res.columns[i]] = convert(v)
		}
		res.rows = append(res.rows, row)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "ROLLBACK"); err != nil {
		return nil, err
	}
	return res, nil
}

func (d *pgxDB) Exec(ctx context.Context, sql string, args []any, timeout time.Duration) (int64, error) {
	conn, err := d.pool.Acquire(ctx)
	if err != nil {
		return 0, connectError{err}
	}
	defer conn.Release()
	if timeout > 0 {
		if _, err := conn.Exec(ctx, "SET statement_timeout = "+millis(timeout)); err != nil {
			return 0, err
		}
		// The session setting must not outlive this call on a pooled
		// connection. When the connection broke, the pool drops it anyway.
		defer func() {
			if !conn.Conn().IsClosed() {
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				defer cancel()
				if _, err := conn.Exec(rctx, "RESET statement_timeout"); err != nil {
					conn.Conn().Close(rctx)
				}
			}
		}()
	}
	tag, err := conn.Exec(ctx, sql, args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (d *pgxDB) Reset() { d.pool.Reset() }

// connectError marks a failure to get a connection, as opposed to a
// statement that failed, so the error can say which it was.
type connectError struct{ err error }

func (e connectError) Error() string { return e.err.Error() }
func (e connectError) Unwrap() error { return e.err }

// Error is a failed database call with every trace of the connection
// string's password removed. It deliberately keeps the driver's error only
// as scrubbed text: pgx errors can quote the connection string (a parse
// error does), and code that unwraps and prints the chain would bring the
// password back. Only context errors are kept, for errors.Is.
type Error struct {
	// Op is what failed: "connect", "query", "exec".
	Op string
	// DB is the redacted DSN, user@host:port/db.
	DB string
	// Code is the SQLSTATE when the server answered with an error.
	Code string
	// Msg is the scrubbed description.
	Msg string

	ctxErr error
}

func (e *Error) Error() string { return e.Op + " on " + e.DB + ": " + e.Msg }

// Unwrap returns context.Canceled or context.DeadlineExceeded when the
// call was cut short by its context, else nil.
func (e *Error) Unwrap() error { return e.ctxErr }

// sqlStateQueryCanceled is what PostgreSQL reports when statement_timeout
// (or a cancel request) stops a statement.
const sqlStateQueryCanceled = "57014"

// wrap turns a driver error into an *Error about t. timeout is the
// statement timeout in force, used to explain a cancellation.
func (t *target) wrap(op string, err error, timeout time.Duration) error {
	if err == nil {
		return nil
	}
	if errors.As(err, new(connectError)) {
		op = "connect"
	}
	e := &Error{Op: op, DB: t.name, Msg: t.scrub(err.Error())}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		e.Code = pgErr.Code
		if pgErr.Code == sqlStateQueryCanceled && timeout > 0 {
			e.Msg = fmt.Sprintf("statement timed out after %s (%s)", timeout, e.Msg)
		}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		e.ctxErr = context.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		e.ctxErr = context.Canceled
	}
	return e
}
