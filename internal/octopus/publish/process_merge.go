package publish

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/OctopusDeploy/go-octopusdeploy/v2/pkg/environments"
	"github.com/OctopusDeploy/go-octopusdeploy/v2/pkg/newclient"
	"github.com/OctopusDeploy/go-octopusdeploy/v2/pkg/projects"

	"github.com/bluegreen-deploy/bluegreen/internal/octopus"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus/templates"
)

// ProcessResult says what UpdateProcess did (or would do, in a dry run).
type ProcessResult struct {
	ProjectName string
	ProcessID   string
	// Created, Updated, Unchanged and Removed name owned steps.
	Created, Updated, Unchanged, Removed []string
	// Kept names the steps bluegreen does not own, left where they were.
	Kept []string
	// Written: the process was PUT (false when nothing changed or dry run).
	Written bool
	// Process is the process JSON as written, or as it would be written.
	Process json.RawMessage
}

// Changed reports whether the process differs from what the server has.
func (r *ProcessResult) Changed() bool {
	return len(r.Created)+len(r.Updated)+len(r.Removed) > 0
}

// UpdateProcess creates or updates a project's deployment process for a
// strategy. It works on the server's raw JSON: fields and steps it does
// not own are written back exactly as read, owned steps stay where they
// are, missing ones are inserted beside their neighbours, and nothing is
// written when nothing changed.
func UpdateProcess(c *octopus.Client, o ProcessOptions) (*ProcessResult, error) {
	if o.TargetRole == "" {
		o.TargetRole = "web"
	}
	if o.FeedID == "" {
		o.FeedID = BuiltInFeedID
	}
	if strings.TrimSpace(o.PackageID) == "" {
		return nil, fmt.Errorf("package: give the id of the application package Octopus deploys to the idle colour")
	}
	if _, err := deployRole(o); err != nil {
		return nil, err
	}
	p, err := projects.GetByIdentifier(c.API, c.SpaceID, o.Project)
	if err != nil || p == nil {
		return nil, fmt.Errorf("project %q: not found in space %s (%v)", o.Project, c.SpaceName, err)
	}
	s := c.API.HttpSession()
	tmpls, err := newclient.Get[[]map[string]any](s, c.Path("/actiontemplates/all"))
	if err != nil {
		return nil, fmt.Errorf("list step templates in space %s: %w", c.SpaceName, err)
	}
	var tmpl map[string]any
	for _, t := range *tmpls {
		if t["Name"] == templates.RunbookTemplateName {
			tmpl = t
		}
	}
	if tmpl == nil {
		return nil, fmt.Errorf("step template %q: not on the server; run `bluegreen octopus sync` first", templates.RunbookTemplateName)
	}
	envs := map[string]string{}
	if o.Strategy == "env-swap" {
		all, err := environments.GetAll(c.API, c.SpaceID)
		if err != nil {
			return nil, fmt.Errorf("list environments in space %s: %w", c.SpaceName, err)
		}
		for _, e := range all {
			envs[strings.ToLower(e.Name)] = e.ID
		}
	}
	want, err := desiredSteps(o, tmpl, envs)
	if err != nil {
		return nil, err
	}
	path := c.Path("/deploymentprocesses/%s", p.DeploymentProcessID)
	proc, err := newclient.Get[map[string]any](s, path)
	if err != nil {
		return nil, fmt.Errorf("read deployment process of project %s: %w", p.Name, err)
	}
	res := &ProcessResult{ProjectName: p.Name, ProcessID: p.DeploymentProcessID}
	steps := mergeProcess(anySlice((*proc)["Steps"]), want, res)
	next := map[string]any{}
	for k, v := range *proc {
		next[k] = v
	}
	next["Steps"] = steps
	if res.Process, err = json.MarshalIndent(next, "", "  "); err != nil {
		return nil, err
	}
	if !res.Changed() || o.DryRun {
		return res, nil
	}
	if _, err := newclient.Put[map[string]any](s, path, next); err != nil {
		return nil, fmt.Errorf("write deployment process of project %s: %w", p.Name, err)
	}
	res.Written = true
	return res, nil
}

// ownedKey returns an existing step's key when bluegreen owns it.
func ownedKey(step map[string]any) string {
	if k := str(anyMap(step["Properties"])[ProcessMarker]); isProcessKey(k) {
		return k
	}
	for _, k := range processKeys {
		if str(step["Name"]) == ProcessStepName(k) {
			return k
		}
	}
	return ""
}

// mergeProcess returns the new step list: foreign steps untouched and in
// place, owned steps updated in place (or dropped when no longer wanted,
// e.g. the approval), and missing owned steps inserted after the owned
// step before them (or before the one after them).
func mergeProcess(existing []any, want []processStep, res *ProcessResult) []any {
	wanted := map[string]processStep{}
	for _, w := range want {
		wanted[w.key] = w
	}
	var out []any
	placed := map[string]int{}
	for _, e := range existing {
		step := anyMap(e)
		k := ownedKey(step)
		if k == "" || placed[k] > 0 {
			if k != "" {
				// A second copy of an owned step: keep the first only.
				res.Removed = append(res.Removed, str(step["Name"]))
				continue
			}
			res.Kept = append(res.Kept, str(step["Name"]))
			out = append(out, e)
			continue
		}
		w, ok := wanted[k]
		if !ok {
			res.Removed = append(res.Removed, str(step["Name"]))
			continue
		}
		merged := mergeStep(step, w)
		if reflect.DeepEqual(normalize(step), normalize(merged)) {
			res.Unchanged = append(res.Unchanged, ProcessStepName(k))
		} else {
			res.Updated = append(res.Updated, ProcessStepName(k))
		}
		out = append(out, merged)
		placed[k] = 1
	}
	indexOf := func(key string) int {
		for i, s := range out {
			if ownedKey(anyMap(s)) == key {
				return i
			}
		}
		return -1
	}
	for i, w := range want {
		if placed[w.key] > 0 {
			continue
		}
		at := len(out)
		if i > 0 && indexOf(want[i-1].key) >= 0 {
			at = indexOf(want[i-1].key) + 1
		} else {
			for _, later := range want[i+1:] {
				if j := indexOf(later.key); j >= 0 {
					at = j
					break
				}
			}
		}
		step := mergeStep(map[string]any{}, w)
		out = append(out[:at], append([]any{step}, out[at:]...)...)
		placed[w.key] = 1
		res.Created = append(res.Created, ProcessStepName(w.key))
	}
	if out == nil {
		out = []any{}
	}
	return out
}

// mergeStep writes an owned step's fields into a copy of the existing step
// (an empty map for a new one); every other field is kept as it was.
func mergeStep(existing map[string]any, w processStep) map[string]any {
	step := deepCopy(existing).(map[string]any)
	name := ProcessStepName(w.key)
	step["Name"] = name
	setDefault(step, "Condition", "Success")
	setDefault(step, "StartTrigger", "StartAfterPrevious")
	setDefault(step, "PackageRequirement", "LetOctopusDecide")
	props := ensureMap(step, "Properties")
	for k, v := range w.stepProps {
		props[k] = v
	}
	actions := anySlice(step["Actions"])
	var action map[string]any
	if len(actions) > 0 {
		action = anyMap(actions[0])
	}
	if action == nil {
		action = map[string]any{}
	}
	for k, v := range w.action {
		action[k] = v
	}
	ap := ensureMap(action, "Properties")
	for k, v := range w.defaults {
		if _, ok := ap[k]; !ok {
			ap[k] = v
		}
	}
	for k, v := range w.props {
		ap[k] = v
	}
	if w.packages != nil {
		action["Packages"] = mergePackages(anySlice(action["Packages"]), w.packages)
	}
	if len(actions) == 0 {
		actions = []any{action}
	} else {
		actions[0] = action
	}
	step["Actions"] = actions
	return step
}

// mergePackages updates the package references by name, keeping each
// existing reference's Id and any other field, and drops references the
// step no longer has.
func mergePackages(existing []any, want []map[string]any) []any {
	out := []any{}
	for _, w := range want {
		ref := map[string]any{}
		for _, e := range existing {
			if em := anyMap(e); em != nil && str(em["Name"]) == str(w["Name"]) {
				ref = deepCopy(em).(map[string]any)
			}
		}
		for k, v := range w {
			ref[k] = deepCopy(v)
		}
		out = append(out, ref)
	}
	return out
}

func setDefault(m map[string]any, k string, v any) {
	if _, ok := m[k]; !ok {
		m[k] = v
	}
}

func ensureMap(m map[string]any, k string) map[string]any {
	if v := anyMap(m[k]); v != nil {
		return v
	}
	v := map[string]any{}
	m[k] = v
	return v
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

// normalize round-trips a value through JSON, so that values built here
// ([]string, int) compare equal to the same values read from the server.
func normalize(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}
