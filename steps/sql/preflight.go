package sql

import (
	"context"
	"crypto/sha256"
	"fmt"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// The preflight probes of the sql steps: before a run changes anything,
// every DSN a step names must accept a connection, so that a typo in a
// password or a host is not found after traffic moved. The probe uses the
// same pool the step will use; its error is scrubbed like a step's.

// dsnProbe checks one DSN. Its key is a hash, so the password is never
// held in the clear; its description is the redacted DSN.
func dsnProbe(dsn string) steps.Probe {
	t := newTarget(dsn)
	return steps.Probe{Key: fmt.Sprintf("sql|%x", sha256.Sum256([]byte(dsn))), What: "PostgreSQL " + t.name + " accepts a connection", Run: func(ctx context.Context) error {
		db, err := pools.open(dsn)
		if err != nil {
			return t.wrap("connect", err, 0)
		}
		pg, ok := db.(*pgxDB)
		if !ok {
			return nil
		}
		if err := pg.pool.Ping(ctx); err != nil {
			return t.wrap("connect", connectError{err}, 0)
		}
		return nil
	}}
}

// sqlReady probes the DSN params the step has (dsn, or from and to).
func sqlReady(p steps.Params, known func(string) bool) []steps.Probe {
	var out []steps.Probe
	for _, name := range []string{"dsn", "from", "to"} {
		if dsn := p.String(name); known(name) && dsn != "" {
			out = append(out, dsnProbe(dsn))
		}
	}
	return out
}
