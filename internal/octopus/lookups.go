package octopus

import "context"

// Lookups by name (an environment's id, a project) cost a round trip or
// two each, and a run makes the same ones again and again: env-swap's
// preflight checks both environments, each target move resolves its from
// and to, and the variable step its scope. What such a lookup finds does
// not change while a run lasts (an id is fixed for the life of the
// resource), so a connection remembers it. Only lookups are remembered:
// documents that are written (targets, variable sets) are always read
// afresh just before the write.

// lookups is a connection's memory of lookups, shared by every copy of
// the connection (WithContext). lock is a one-slot semaphore rather than
// a mutex so that a caller waiting for another's lookup (on a slow server)
// stops when its own context ends, not when that lookup does.
type lookups struct {
	lock chan struct{}
	m    map[string]any
}

func newLookups() *lookups { return &lookups{lock: make(chan struct{}, 1)} }

// Remember returns what fn returned the first time it succeeded for key
// on this connection, calling fn when there is nothing yet. A failure is
// not remembered: the next call tries again. Calls for one connection are
// serialised, so parallel preflight probes make one lookup, not one each;
// a call waits for another's only until the context this copy of the
// client is bound to ends. A Client not made by Connect remembers nothing.
func (c *Client) Remember(key string, fn func() (any, error)) (any, error) {
	if c.memo == nil {
		return fn()
	}
	ctx := c.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	select {
	case c.memo.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-c.memo.lock }()
	if v, ok := c.memo.m[key]; ok {
		return v, nil
	}
	v, err := fn()
	if err != nil {
		return nil, err
	}
	if c.memo.m == nil {
		c.memo.m = map[string]any{}
	}
	c.memo.m[key] = v
	return v, nil
}

// Forget drops what was remembered for key, so that the next Remember
// looks it up again (a name that was not found among the remembered ones
// may have been created since).
func (c *Client) Forget(key string) {
	if c.memo == nil {
		return
	}
	c.memo.lock <- struct{}{}
	defer func() { <-c.memo.lock }()
	delete(c.memo.m, key)
}
