package publish

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/bluegreen-deploy/bluegreen/internal/octopus/templates"
)

// A deployment process for one strategy, as `bluegreen octopus process`
// builds it: Run runbook (phase prepare) → Deploy a Package to the idle
// colour → optional Manual Intervention → Run runbook (promote) → Run
// runbook (cleanup). This file says what the owned steps look like;
// process_merge.go writes them into a server's process without touching
// anything else.

// Step keys: the value of every owned step's ProcessMarker property.
const (
	ProcessPrepare = "prepare"
	ProcessDeploy  = "deploy"
	ProcessApprove = "approve"
	ProcessPromote = "promote"
	ProcessCleanup = "cleanup"
)

// ProcessMarker is the step property that marks a step as bluegreen's
// (its value is the step's key). A step is also taken as bluegreen's when
// it carries an owned step's name, so a marker lost by hand-editing does
// not make the command add a second copy.
const ProcessMarker = "BlueGreen.Process.Step"

// ProcessStepPrefix starts the name of every owned step.
const ProcessStepPrefix = "Blue-Green "

// ProcessVarPrefix starts the project variables the owned steps read.
const ProcessVarPrefix = "BlueGreen.Pipeline."

// ProcessStepName is the name of the owned step with a key.
func ProcessStepName(key string) string {
	if key == ProcessDeploy {
		return ProcessStepPrefix + "deploy to idle"
	}
	return ProcessStepPrefix + key
}

// ProcessInput is one input of the strategy's runbook.
type ProcessInput struct {
	Name string
	// Required: no default and not optional; the process always passes it.
	Required bool
}

// ProcessOptions describe the process for one project and strategy.
type ProcessOptions struct {
	// Project is the project's id, slug or name.
	Project string
	// Strategy is the runbook's name: weighted-dns, alb-weighted,
	// same-host or env-swap.
	Strategy string
	// RunbookYAML is the runbook, pasted into the Run runbook steps.
	RunbookYAML string
	// Inputs are the runbook's inputs.
	Inputs []ProcessInput
	// PackageID is the application's package, deployed to the idle colour.
	PackageID string
	// FeedID is the feed that holds it (default the built-in feed).
	FeedID string
	// TargetRole is the runbook's target_role (default web).
	TargetRole string
	// Approval adds a Manual Intervention before promote.
	Approval bool
	// ProdEnvironment and PreprodEnvironment are env-swap's environments
	// (names); Octopus deploys the package in pre-prod, swaps in prod.
	ProdEnvironment, PreprodEnvironment string
	// DryRun computes and returns the process without writing it.
	DryRun bool
}

// processStep is an owned step: step-level properties, one action, and
// which action fields are bluegreen's (set on every run) or only
// defaults (set when the step is created).
type processStep struct {
	key       string
	stepProps map[string]string
	action    map[string]any // Name, ActionType, Environments (when owned)
	props     map[string]string
	defaults  map[string]string
	packages  []map[string]any
}

// strategyKinds: which strategies the command builds a process for, and
// the role the package is deployed to.
func deployRole(o ProcessOptions) (string, error) {
	switch o.Strategy {
	case "weighted-dns", "alb-weighted":
		return o.TargetRole + "-idle", nil
	case "same-host", "env-swap":
		return o.TargetRole, nil
	}
	return "", fmt.Errorf("strategy: expected weighted-dns, alb-weighted, same-host or env-swap, found %q", o.Strategy)
}

// inputLines wires the runbook's inputs to the deployment: the Octopus
// ones to the deployment's own project and environment, target_role to the
// role the process deploys to, and every other input to the project
// variable BlueGreen.Input.<name>; an optional input is passed only when
// that variable is set (Octostache's #{if}), so its default applies
// otherwise.
func inputLines(o ProcessOptions) string {
	fixed := map[string]string{
		"octopus_project":     "#{Octopus.Project.Name}",
		"octopus_environment": "#{Octopus.Environment.Name}",
		"target_role":         o.TargetRole,
		"wait_for_targets":    "true",
		"prod_environment":    o.ProdEnvironment,
		"preprod_environment": o.PreprodEnvironment,
	}
	var lines []string
	for _, in := range o.Inputs {
		if v, ok := fixed[in.Name]; ok && v != "" {
			lines = append(lines, in.Name+"="+v)
			continue
		}
		v := "#{BlueGreen.Input." + in.Name + "}"
		if in.Required {
			lines = append(lines, in.Name+"="+v)
		} else {
			lines = append(lines, "#{if BlueGreen.Input."+in.Name+"}"+in.Name+"="+v+"#{/if}")
		}
	}
	return strings.Join(lines, "\n")
}

// desiredSteps builds the owned steps in process order. tmpl is the
// server's Run runbook template (raw JSON); envs maps environment names
// to ids (env-swap scopes its steps to them).
func desiredSteps(o ProcessOptions, tmpl map[string]any, envs map[string]string) ([]processStep, error) {
	role, err := deployRole(o)
	if err != nil {
		return nil, err
	}
	var prodEnv, preprodEnv []any
	if o.Strategy == "env-swap" {
		for _, e := range []struct {
			name string
			dst  *[]any
		}{{o.ProdEnvironment, &prodEnv}, {o.PreprodEnvironment, &preprodEnv}} {
			id, ok := envs[strings.ToLower(e.name)]
			if !ok {
				return nil, fmt.Errorf("environment %q: not found on the server", e.name)
			}
			*e.dst = []any{id}
		}
	}
	runbook := func(key string) processStep {
		s := processStep{key: key, stepProps: map[string]string{}, props: map[string]string{}, defaults: map[string]string{},
			action: map[string]any{"ActionType": str(tmpl["ActionType"])}}
		for k, v := range anyMap(tmpl["Properties"]) {
			if sv, ok := v.(string); ok {
				s.props[k] = sv
			}
		}
		for _, p := range anySlice(tmpl["Parameters"]) {
			pm := anyMap(p)
			if d, ok := pm["DefaultValue"].(string); ok {
				s.defaults[str(pm["Name"])] = d
			}
		}
		for k, v := range map[string]string{
			"Octopus.Action.Template.Id":      str(tmpl["Id"]),
			"Octopus.Action.Template.Version": strconv.Itoa(toInt(tmpl["Version"])),
			templates.RunbookYAMLParam:        o.RunbookYAML,
			templates.RunbookPackageParam:     "",
			templates.RunbookInputsParam:      inputLines(o),
			templates.RunbookPhaseParam:       key,
			templates.RunbookStateParam:       "#{if " + ProcessVarPrefix + "State}#{" + ProcessVarPrefix + "State}#{/if}",
			templates.APIKeyParam:             "#{" + ProcessVarPrefix + "ApiKey}",
			templates.AWSAccountParam:         "#{" + ProcessVarPrefix + "AwsAccount}",
			templates.AWSRegionParam:          "#{" + ProcessVarPrefix + "AwsRegion}",
			templates.PackageParam:            `{"PackageId":"` + templates.PackageName + `","FeedId":"` + BuiltInFeedID + `"}`,
		} {
			s.props[k] = v
		}
		for _, p := range anySlice(tmpl["Packages"]) {
			pm := anyMap(p)
			s.packages = append(s.packages, map[string]any{"Name": pm["Name"], "PackageId": pm["PackageId"], "FeedId": pm["FeedId"],
				"AcquisitionLocation": pm["AcquisitionLocation"], "Properties": pm["Properties"]})
		}
		if prodEnv != nil {
			s.action["Environments"] = prodEnv
		}
		return s
	}
	deploy := processStep{key: ProcessDeploy, stepProps: map[string]string{"Octopus.Action.TargetRoles": role},
		action: map[string]any{"ActionType": "Octopus.TentaclePackage"},
		props: map[string]string{
			"Octopus.Action.Package.PackageId":          o.PackageID,
			"Octopus.Action.Package.FeedId":             o.FeedID,
			"Octopus.Action.Package.DownloadOnTentacle": "False",
		},
		defaults: map[string]string{},
		packages: []map[string]any{{"Name": "", "PackageId": o.PackageID, "FeedId": o.FeedID, "AcquisitionLocation": "Server", "Properties": map[string]any{}}},
	}
	if o.Strategy == "same-host" {
		// The package goes into the idle copy's folder, which prepare
		// names in an output variable; the other copy is not touched.
		deploy.props["Octopus.Action.EnabledFeatures"] = "Octopus.Features.CustomDirectory"
		deploy.props["Octopus.Action.Package.CustomInstallationDirectory"] = "#{Octopus.Action[" + ProcessStepName(ProcessPrepare) + "].Output.BlueGreen.IdleDir}"
		deploy.defaults["Octopus.Action.Package.CustomInstallationDirectoryShouldBePurgedBeforeDeployment"] = "False"
	}
	if preprodEnv != nil {
		deploy.action["Environments"] = preprodEnv
	}
	out := []processStep{runbook(ProcessPrepare), deploy}
	if o.Strategy == "env-swap" {
		// Pre-prod gets every release; the swap runs when the release is
		// deployed to production. Nothing is prepared before the package
		// reaches pre-prod, so the deployment starts there.
		out = []processStep{deploy, runbook(ProcessPrepare)}
	}
	if o.Approval {
		a := processStep{key: ProcessApprove, stepProps: map[string]string{}, action: map[string]any{"ActionType": "Octopus.Manual"},
			props: map[string]string{
				"Octopus.Action.Manual.Instructions": "The idle colour runs the new release and has not taken traffic yet. Approve to shift traffic to it (promote); abort to roll prepare back.",
			},
			defaults: map[string]string{"Octopus.Action.Manual.BlockConcurrentDeployments": "False"}}
		if prodEnv != nil {
			a.action["Environments"] = prodEnv
		}
		out = append(out, a)
	}
	out = append(out, runbook(ProcessPromote), runbook(ProcessCleanup))
	for i := range out {
		out[i].stepProps[ProcessMarker] = out[i].key
		out[i].action["Name"] = ProcessStepName(out[i].key)
	}
	return out, nil
}

// BuiltInFeedID is the built-in package feed's id on most servers.
const BuiltInFeedID = "feeds-builtin"

func str(v any) string { s, _ := v.(string); return s }

func anyMap(v any) map[string]any { m, _ := v.(map[string]any); return m }

func anySlice(v any) []any { l, _ := v.([]any); return l }

func toInt(v any) int {
	switch n := v.(type) {
	case float64:
		return int(n)
	case int:
		return n
	case json.Number:
		i, _ := n.Int64()
		return int(i)
	case string:
		i, _ := strconv.Atoi(n)
		return i
	}
	return 0
}

// processKeys lists the step keys in the order a process holds them.
var processKeys = []string{ProcessPrepare, ProcessDeploy, ProcessApprove, ProcessPromote, ProcessCleanup}

func isProcessKey(k string) bool { return slices.Contains(processKeys, k) }
