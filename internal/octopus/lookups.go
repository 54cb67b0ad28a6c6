package octopus

import "sync"

// Lookups by name (an environment's id, a project) cost a round trip or
// two each, and a run makes the same ones again and again: env-swap's
// preflight checks both environments, each target move resolves its from
// and to, and the variable step its scope. What such a lookup finds does
// not change while a run lasts (an id is fixed for the life of the
// resource), so a connection remembers it. Only lookups are remembered:
// documents that are written (targets, variable sets) are always read
// afresh just before the write.

// lookups is a connection's memory of lookups, shared by every copy of
// the connection (WithContext).
type lookups struct {
	mu sync.Mutex
	m  map[string]any
}

// Remember returns what fn returned the first time it succeeded for key
// on this connection, calling fn when there is nothing yet. A failure is
// not remembered: the next call tries again. Calls for one connection are
// serialised, so parallel preflight probes make one lookup, not one each.
// A Client not made by Connect remembers nothing.
func (c *Client) Remember(key string, fn func() (any, error)) (any, error) {
	if c.memo == nil {
		return fn()
	}
	c.memo.mu.Lock()
	defer c.memo.mu.Unlock()
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
	c.memo.mu.Lock()
	defer c.memo.mu.Unlock()
	delete(c.memo.m, key)
}
