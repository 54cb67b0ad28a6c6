package octopus

import (
	"context"
	"fmt"
	"slices"

	"github.com/OctopusDeploy/go-octopusdeploy/v2/pkg/projects"

	"github.com/bluegreen-deploy/bluegreen/internal/octopus"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// setAttempts bounds the retries of a variable-set update that lost an
// optimistic-concurrency race (someone saved the set between our read and
// our write).
const setAttempts = 5

func init() {
	steps.Register(steps.Spec{
		Kind:    "octopus.variables.set",
		Title:   "Set an Octopus project variable",
		Summary: "Sets a project variable (e.g. BlueGreen.Live) to a value, creating it when missing.",
		Doc: "The project's whole variable set is read and written back, as the API requires; every other " +
			"variable is sent back unchanged, sensitive ones with their ids so that their secrets are kept. " +
			"When another user saves the set in between, the server rejects the stale write and the step " +
			"reads the set again and retries. The undo restores the previous value, or removes the variable " +
			"when the step created it. Sensitive variables are not set: their previous value cannot be read " +
			"back, so the change could not be undone.",
		Preflight: octopusReady,
		Rules: []steps.Rule{
			steps.Length("project", 1, 0),
			steps.Length("name", 1, 0),
			steps.Matches("server", `^[Hh][Tt][Tt][Pp][Ss]?://\S+$`, "an http:// or https:// URL"),
		},
		Params: withConnection(append(variableParams[:len(variableParams):len(variableParams)],
			steps.Param{Name: "value", Type: steps.String, Doc: "The new value. Required unless remove is true.", Examples: []any{"${{ idle.name }}"}},
			steps.Param{Name: "remove", Type: steps.Bool, Default: false, Doc: "Remove the variable instead of setting it (the undo of creating one)."},
		)...),
		Outputs: []steps.Output{
			{Name: "previous", Type: steps.String, Doc: "The value before the change (empty when the variable did not exist)."},
			{Name: "existed", Type: steps.Bool, Doc: "Whether the variable existed before."},
			{Name: "changed", Type: steps.Bool, Doc: "Whether the step changed anything."},
		},
		Mutates:     true,
		Credentials: steps.OctopusCredentials,
		New:         func() steps.Step { return steps.StepFunc(setVariable) },
	})
}

func setVariable(ctx context.Context, call *steps.Call) (steps.Outputs, error) {
	p := call.Params
	if !p.Bool("remove") && !p.Has("value") {
		return nil, fmt.Errorf("param \"value\": required unless remove is true")
	}
	c, err := connect(ctx, p)
	if err != nil {
		return nil, err
	}
	proj, envID, err := variableScope(c, p)
	if err != nil {
		return nil, err
	}
	name := p.String("name")
	store, err := openVariables(c, proj, p.String("git_ref"))
	if err != nil {
		return nil, err
	}
	journaled := false
	for attempt := 1; ; attempt++ {
		set, vars, err := store.read(c, store.path)
		if err != nil {
			return nil, err
		}
		i := findVariable(vars, name, envID)
		if i < 0 {
			if found, err := store.sensitiveMatch(c, name, envID); err != nil {
				return nil, err
			} else if found {
				return nil, fmt.Errorf("variable %s of project %s is sensitive: bluegreen does not set sensitive variables because the undo could not restore the secret", name, proj.Name)
			}
		}
		out := steps.Outputs{"previous": "", "existed": i >= 0, "changed": false}
		var v octopus.Doc
		if i >= 0 {
			v = variableAt(vars, i)
			if v["IsSensitive"] == true {
				return nil, fmt.Errorf("variable %s of project %s is sensitive: bluegreen does not set sensitive variables because the undo could not restore the secret", name, proj.Name)
			}
			out["previous"] = octopus.DocString(v, "Value")
		}
		switch {
		case p.Bool("remove") && i < 0, !p.Bool("remove") && i >= 0 && octopus.DocString(v, "Value") == p.String("value"):
			return out, nil
		}
		if !journaled {
			if err := call.BeforeChange(variableUndo(p, proj, store.gitRef, name, envID, i >= 0, out["previous"].(string))); err != nil {
				return nil, err
			}
			journaled = true
		}
		// Only the one variable bluegreen owns changes; every other
		// variable, and every field of this one but its value, goes back
		// exactly as the server sent it.
		switch {
		case p.Bool("remove"):
			vars = slices.Delete(vars, i, i+1)
		case i >= 0:
			v["Value"] = p.String("value")
		default:
			scope := map[string]any{}
			if envID != "" {
				scope["Environment"] = []any{envID}
			}
			vars = append(vars, map[string]any{"Name": name, "Value": p.String("value"), "Type": "String", "IsSensitive": false,
				"IsEditable": true, "Description": nil, "Prompt": nil, "Scope": scope})
		}
		set["Variables"] = vars
		_, err = c.PutDoc(store.path, set)
		if err == nil {
			out["changed"] = true
			call.Log.Info().Str("project", proj.Name).Str("variable", name).Str("git_ref", store.gitRef).Msg("octopus variable set")
			return out, nil
		}
		if attempt >= setAttempts || !lostRace(c, store.path, set["Version"]) {
			return nil, fmt.Errorf("write variables of project %s (attempt %d): %w", proj.Name, attempt, err)
		}
		call.Log.Warn().Str("project", proj.Name).Int("attempt", attempt).Msg("variable set changed under us; reading it again")
	}
}

// lostRace reports whether a failed write was an optimistic-concurrency
// conflict: the set's Version moved on since it was read. The server
// answers such a write with 400 and a message for humans, so the Version
// is the reliable signal.
func lostRace(c *octopus.Client, path string, readVersion any) bool {
	now, err := c.GetDoc(path)
	return err == nil && fmt.Sprint(now["Version"]) != fmt.Sprint(readVersion)
}

func variableUndo(p steps.Params, proj *projects.Project, gitRef, name, envID string, existed bool, previous string) steps.Undo {
	params := withConnectionOf(p, map[string]any{"project": proj.ID, "name": name})
	if gitRef != "" {
		// The undo writes to the branch the change went to, even if the
		// project's default branch moves in between.
		params["git_ref"] = gitRef
	}
	if envID != "" {
		params["environment"] = envID
	}
	if !existed {
		params["remove"] = true
		return steps.Undo{Kind: "octopus.variables.set", Params: params, Note: fmt.Sprintf("remove %s from project %s", name, proj.Name)}
	}
	params["value"] = previous
	return steps.Undo{Kind: "octopus.variables.set", Params: params, Note: fmt.Sprintf("set %s of project %s back to %q", name, proj.Name, previous)}
}
