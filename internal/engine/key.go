package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/bluegreen-deploy/bluegreen/internal/state"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// The state key names the application a run releases: its journal, its
// lock and its live colour are stored under it. One runbook usually serves
// several applications (the same weighted-DNS flow for many services), so
// the key cannot be the runbook's name alone: two applications would share
// one record, and recovering one with the other's inputs would undo or
// finish the wrong release.
//
// A runbook may declare it (`key: "${{ inputs.listener_arn }}"`, an
// expression over inputs and colours); without one it is the runbook's
// name and a digest of the colours' resolved attributes (the groups, load
// balancers and records the run works on). --key overrides both.

// maxKeyLen bounds a resolved key: it becomes a file name or a DynamoDB key.
const maxKeyLen = 512

// stateKey parses the top-level key: over the inputs and colours.
func (p *parser) stateKey(n *yaml.Node) {
	if n.Kind != yaml.ScalarNode {
		p.d.add(pos(n), "key: expected a string or a ${{ }} expression over inputs and colours, found %s", kindName(n))
		return
	}
	g := p.globals(nil)
	sc := newScope([]scopeField{g[0], g[1]})
	p.rb.Key = p.tmpl(n, sc, nil)
}

// StateKey resolves the key the run's state is stored under and the
// application identity the run journals (App), from typed inputs. The
// identity is the declared key's value when the runbook declares one (the
// author said what names the application), else the colours' resolved
// attributes; either way with the runbook's name.
func (r *Runbook) StateKey(inputs map[string]any) (key, app string, err error) {
	sum := sha256.New()
	enc := json.NewEncoder(sum)
	_ = enc.Encode(r.Name)
	if r.Key != nil {
		colours, err := r.resolveColours(inputs)
		if err != nil {
			return "", "", err
		}
		v, err := r.Key.Eval(map[string]any{"inputs": inputs, "colours": colours})
		if err != nil {
			return "", "", fmt.Errorf("key: %w", err)
		}
		key = strings.TrimSpace(steps.FormatValue(v))
		if key == "" {
			return "", "", fmt.Errorf("key: resolved to an empty string")
		}
		if len(key) > maxKeyLen {
			return "", "", fmt.Errorf("key: resolved to %d characters, more than %d", len(key), maxKeyLen)
		}
		_ = enc.Encode(key)
		return key, hex.EncodeToString(sum.Sum(nil))[:16], nil
	}
	colours, err := r.resolveColours(inputs)
	if err != nil {
		return "", "", err
	}
	_ = enc.Encode(colours) // maps encode with sorted keys: deterministic
	app = hex.EncodeToString(sum.Sum(nil))[:16]
	return r.Name + "-" + app[:8], app, nil
}

// resolveColours evaluates the colours' attributes over the inputs.
func (r *Runbook) resolveColours(inputs map[string]any) (map[string]any, error) {
	v := map[string]any{"inputs": inputs, "run": map[string]any{}}
	out := map[string]any{}
	for _, c := range r.Colours {
		m := map[string]any{"name": c.Name}
		for _, a := range c.Attrs {
			val, err := a.Value.Eval(v)
			if err != nil {
				return nil, fmt.Errorf("colour %s: %s: %w", c.Name, a.Name, err)
			}
			m[a.Name] = val
		}
		out[c.Name] = m
	}
	return out, nil
}

// stateKey is the key a run with these typed inputs uses: --key, or the
// runbook's. It also returns the application identity.
func (x *Executor) stateKey(rb *Runbook, inputs map[string]any) (string, string, error) {
	key, app, err := rb.StateKey(inputs)
	if err != nil {
		return "", "", invalid(rb.File, "%s", err)
	}
	if x.Key != "" {
		key = x.Key
	}
	return x.scoped(key), app, nil
}

// recoveryKey finds the key for resume, rollback, status and unlock,
// which may be given only some inputs (the journal holds the rest): --key,
// or the key the given inputs and defaults resolve to. Required inputs
// that were not given are tried with two different stand-ins: when the key
// is the same both times it does not depend on them.
func (x *Executor) recoveryKey(rb *Runbook, raw map[string]any, verb string) (string, error) {
	if x.Key != "" {
		return x.scoped(x.Key), nil
	}
	var keys [2]string
	var missing []string
	for i := range keys {
		given := make(map[string]any, len(raw))
		for k, v := range raw {
			given[k] = v
		}
		for _, in := range rb.Inputs {
			if _, ok := raw[in.Name]; !ok && in.Required {
				given[in.Name] = standIn(in, i)
				if i == 0 {
					missing = append(missing, in.Name)
				}
			}
		}
		inputs, err := rb.ResolveInputs(given)
		if err == nil {
			keys[i], _, err = x.stateKey(rb, inputs)
		}
		if err != nil && len(missing) > 0 {
			e := invalid(rb.File, "%s finds the run by its state key: pass --key, or the inputs that name the application (missing: %s)", verb, strings.Join(missing, ", "))
			// An input that was given but is wrong keeps its own
			// diagnostic, at the input's declaration.
			if inv := (*InvalidError)(nil); errors.As(err, &inv) {
				e.Diags = append(e.Diags, inv.Diags...)
			} else {
				e.Diags[0].Message += ": " + err.Error()
			}
			return "", e
		}
		if err != nil {
			return "", err
		}
	}
	if keys[0] != keys[1] {
		return "", invalid(rb.File, "%s finds the run by its state key, which depends on inputs not given: pass --key, or the inputs that name the application (missing: %s)", verb, strings.Join(missing, ", "))
	}
	return keys[0], nil
}

// standIn is a value of type t for an input that was not given; the two
// variants differ in every type.
func standIn(in *Input, variant int) any {
	if len(in.Enum) > 0 {
		return in.Enum[variant%len(in.Enum)]
	}
	switch in.Type {
	case steps.Int, steps.Number:
		return variant
	case steps.Bool:
		return variant == 1
	case steps.Duration:
		return time.Duration(variant + 1)
	case steps.List:
		return []any{fmt.Sprintf("\x00stand-in-%d", variant)}
	case steps.Map:
		return map[string]any{"stand-in": variant}
	}
	return fmt.Sprintf("\x00stand-in-%d", variant)
}

// sameApp refuses inputs that name another application than the one the
// run released (recorded in run.App).
func (x *Executor) sameApp(rb *Runbook, run *state.Run, inputs map[string]any) error {
	if run.App == "" {
		return nil // recorded before runs named their application
	}
	_, app, err := rb.StateKey(inputs)
	if err != nil {
		return invalid(rb.File, "%s", err)
	}
	if app != run.App {
		return invalid(rb.File, "run %s released another application than these inputs name: nothing was changed; "+
			"recover it with the inputs it was started with (they are journaled: pass only sensitive ones)", run.ID)
	}
	return nil
}

// KeyFor returns the state key the executor uses for rb given raw inputs
// (status, unlock): --key, or the runbook's key over the inputs.
func (x *Executor) KeyFor(rb *Runbook, raw map[string]any) (string, error) {
	return x.recoveryKey(rb, raw, "this command")
}

func (x *Executor) scoped(key string) string {
	if x.KeyScope == "" {
		return key
	}
	return x.KeyScope + "/" + key
}
