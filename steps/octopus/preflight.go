package octopus

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"

	"github.com/bluegreen-deploy/bluegreen/internal/octopus"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// The preflight probes of the Octopus steps: before a run changes
// anything, the server URL and API key must be set and the server must
// answer, and the project, environments and target selection a step names
// must exist, so that a release is not moved and undone because a name is
// wrong or Octopus is not configured.

// connKey identifies a connection without holding the API key.
func connKey(p steps.Params) (string, string) {
	cfg := octopus.ConfigFromEnv().Override(p.String("server"), p.String("api_key"), p.String("space"))
	space := cfg.Space
	if space == "" {
		space = "the default space"
	}
	return fmt.Sprintf("octopus|%s|%x|%s", cfg.URL, sha256.Sum256([]byte(cfg.APIKey)), cfg.Space), fmt.Sprintf("Octopus server %s (%s)", orUnset(cfg.URL), space)
}

func orUnset(url string) string {
	if strings.TrimSpace(url) == "" {
		return "(OCTOPUS_URL not set)"
	}
	return url
}

// octopusReady checks the connection and the project and environments
// the step names.
func octopusReady(p steps.Params, known func(string) bool) []steps.Probe {
	if !known("server") || !known("api_key") || !known("space") {
		return nil
	}
	key, where := connKey(p)
	out := []steps.Probe{{Key: key, What: where + " answers", Run: func(ctx context.Context) error {
		_, err := connect(ctx, p)
		return err
	}}}
	if ref := p.String("project"); known("project") && ref != "" {
		out = append(out, steps.Probe{Key: key + "|project|" + ref, What: fmt.Sprintf("Octopus project %q exists", ref), Run: func(ctx context.Context) error {
			c, err := connect(ctx, p)
			if err != nil {
				return err
			}
			_, err = project(c, ref)
			return err
		}})
	}
	for _, name := range []string{"environment", "to", "from"} {
		ref := p.String(name)
		if !known(name) || ref == "" {
			continue
		}
		out = append(out, steps.Probe{Key: key + "|environment|" + ref, What: fmt.Sprintf("Octopus environment %q exists", ref), Run: func(ctx context.Context) error {
			c, err := connect(ctx, p)
			if err != nil {
				return err
			}
			_, err = environmentID(c, ref)
			return err
		}})
	}
	return out
}

// octopusTargets also checks that the target selection of a step that
// changes targets matches at least one target (unless allow_none or exact
// is given): a role that no target has is most often a typo.
func octopusTargets(p steps.Params, known func(string) bool) []steps.Probe {
	out := octopusReady(p, known)
	if out == nil || len(p.Map("exact")) > 0 || p.Bool("allow_none") || !hasSelector(p) {
		return out
	}
	for _, n := range []string{"role", "environment", "targets", "exact", "allow_none"} {
		if !known(n) {
			return out
		}
	}
	key, _ := connKey(p)
	var parts []string
	if r := p.String("role"); r != "" {
		parts = append(parts, fmt.Sprintf("role %q", r))
	}
	if e := p.String("environment"); e != "" {
		parts = append(parts, fmt.Sprintf("environment %q", e))
	}
	if ts := p.Strings("targets"); len(ts) > 0 {
		parts = append(parts, fmt.Sprintf("targets %q", ts))
	}
	sel := strings.Join(parts, ", ")
	return append(out, steps.Probe{Key: key + "|select|" + sel, What: "an Octopus deployment target matches " + sel, Run: func(ctx context.Context) error {
		c, err := connect(ctx, p)
		if err != nil {
			return err
		}
		ts, err := selectTargets(c, p)
		if err != nil {
			return err
		}
		if len(ts) == 0 {
			return fmt.Errorf("no deployment target in space %s matches %s (pass allow_none: true when that is expected)", c.SpaceName, sel)
		}
		return nil
	}})
}
