package templates

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// Names and values shared by every generated template.
const (
	// NamePrefix starts the name of every bluegreen template. It has no
	// "/": the Library and library.octopus.com turn names into slugs and
	// links, which a slash breaks.
	NamePrefix = "Blue-Green - "
	// legacyNamePrefix is the prefix of template names before the rename;
	// sync finds templates under it and renames them in place, so their
	// ids and the steps that use them stay.
	legacyNamePrefix = "Blue/Green - "
	// RunbookTemplateName is the name of the template that runs a whole runbook.
	RunbookTemplateName = NamePrefix + "Run runbook"
	// RunbookKey identifies the runbook template in templates/versions.json,
	// beside the step kinds that identify the others.
	RunbookKey = "run-runbook"
	// PackageName is the name of the package reference that brings the
	// bluegreen binary to the worker, and the package id in the feed.
	PackageName = "bluegreen"
	// Author goes into LastModifiedBy.
	Author = "bluegreen"
	// ExportOctopusVersion goes into $Meta.OctopusVersion: the server
	// version whose API contract the templates were checked against.
	ExportOctopusVersion = "2020.5.0"

	paramPrefix      = "BlueGreen."
	awsInstanceRole  = paramPrefix + "AWS.UseInstanceRole"
	awsAssumeRole    = paramPrefix + "AWS.AssumeRole"
	awsRoleArn       = paramPrefix + "AWS.AssumedRoleArn"
	awsRoleSession   = paramPrefix + "AWS.AssumedRoleSession"
	awsRoleDuration  = paramPrefix + "AWS.AssumeRoleSessionDurationSeconds"
	awsRoleExternal  = paramPrefix + "AWS.AssumeRoleExternalId"
	runbookPathParam = paramPrefix + "Runbook.Path"
	runbookRecover   = paramPrefix + "Runbook.Recover"
	runbookPackage   = "runbook"
)

// Template parameters that a deployment process fills in when it uses the
// runbook template (package publish writes them into the owned steps), so
// their names are part of the template's contract.
const (
	PackageParam        = paramPrefix + "Package"
	APIKeyParam         = paramPrefix + "Octopus.ApiKey"
	AWSAccountParam     = paramPrefix + "AWS.Account"
	AWSRegionParam      = paramPrefix + "AWS.Region"
	RunbookPackageParam = paramPrefix + "Runbook.Package"
	RunbookYAMLParam    = paramPrefix + "Runbook.Yaml"
	RunbookInputsParam  = paramPrefix + "Runbook.Inputs"
	RunbookPhaseParam   = paramPrefix + "Runbook.Phase"
	RunbookStateParam   = paramPrefix + "Runbook.State"
)

// Generated is one template with the key and file name it is stored under.
type Generated struct {
	// Key is the step kind, or RunbookKey.
	Key string
	// File is the file name inside templates/, e.g. "bluegreen-aws-asg-scale.json".
	File     string
	Template Template
}

// Generate builds one template per registered kind plus the runbook
// template, sorted by key. Version and $Meta.ExportedAt are left empty:
// Stamp sets them from the versions file, so that generation itself is a
// pure function of the registry.
func Generate(reg *steps.Registry) []Generated {
	var out []Generated
	for _, s := range reg.All() {
		out = append(out, Generated{Key: s.Kind, File: fileName(s.Kind), Template: stepTemplate(s)})
	}
	out = append(out, Generated{Key: RunbookKey, File: fileName(RunbookKey), Template: runbookTemplate()})
	for i := range out {
		// The Library's templates name the action type again as the step
		// package; the server fills it in the same way on import.
		out[i].Template.StepPackageID = out[i].Template.ActionType
	}
	slices.SortFunc(out, func(a, b Generated) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// LegacyName returns the name a template had before the "Blue-Green - "
// rename ("" for a name without the prefix).
func LegacyName(name string) string {
	if !strings.HasPrefix(name, NamePrefix) {
		return ""
	}
	return legacyNamePrefix + strings.TrimPrefix(name, NamePrefix)
}

// fileName turns a kind into the template's file name.
func fileName(key string) string {
	return "bluegreen-" + strings.ReplaceAll(key, ".", "-") + ".json"
}

func stepTemplate(s *steps.Spec) Template {
	t := baseTemplate(s.Kind, NamePrefix+s.Title, stepDescription(s))
	t.Category = "other"
	switch s.Credentials {
	case steps.AWSCredentials:
		t.Category = "aws"
		t.ActionType = ActionAwsScript
	case steps.OctopusCredentials:
		t.Category = "octopus"
	}
	var names []paramArg
	for _, p := range s.Params {
		if p.Connection {
			// The template's script sets the connection from the
			// deployment (octopusEnv), so the step's overrides are left out.
			continue
		}
		prm := specParam(s.Kind, p)
		t.Parameters = append(t.Parameters, prm)
		names = append(names, paramArg{param: p.Name, variable: prm.Name, sensitive: p.Sensitive})
	}
	switch s.Credentials {
	case steps.AWSCredentials:
		addAWS(&t, s.Kind)
	case steps.OctopusCredentials:
		t.Parameters = append(t.Parameters, apiKeyParameter(s.Kind))
	}
	t.Parameters = append(t.Parameters, packageParameter(s.Kind))
	t.Properties["Octopus.Action.Script.ScriptBody"] = stepScript(s, names)
	t.Properties["Octopus.Action.RunOnServer"] = strconv.FormatBool(!OnTargets(s.Kind))
	return t
}

// OnTargets says whether the template of a step kind runs on the
// deployment targets (the host.* steps: they act on the machine they run
// on) rather than on a worker (every other step: it calls AWS, Octopus or
// a database over the network, or only decides). A step created from the
// template may still change its execution location.
func OnTargets(kind string) bool { return strings.HasPrefix(kind, "host.") }

func baseTemplate(key, name, description string) Template {
	return Template{
		ID:              stableID("template:" + key),
		Name:            name,
		Description:     description,
		ActionType:      ActionScript,
		Packages:        []PackageRef{packageRef(key, PackageName, PackageParam)},
		GitDependencies: []any{},
		Properties: map[string]string{
			"Octopus.Action.Script.ScriptSource": "Inline",
			"Octopus.Action.Script.Syntax":       "Bash",
			"Octopus.Action.RunOnServer":         "true",
		},
		LastModifiedBy: Author,
		Meta:           Meta{OctopusVersion: ExportOctopusVersion, Type: "ActionTemplate"},
	}
}

// packageRef is a package reference chosen at deploy time by the template
// parameter param (the Library's parameter-driven pattern, see PackageRef),
// extracted on the server before the script runs.
func packageRef(key, name, param string) PackageRef {
	return PackageRef{
		ID:                  stableID("template:" + key + "/package:" + name),
		Name:                name,
		AcquisitionLocation: "Server",
		Properties: map[string]string{
			"Extract":              "True",
			"SelectionMode":        "deferred",
			"PackageParameterName": param,
			"Purpose":              "",
		},
	}
}

// addAWS turns t into an Octopus.AwsRunScript template wired as the
// Library's AWS templates are: the account, instance-role and assume-role
// settings and the region are action properties that point at template
// parameters, so Octopus injects the credentials into the script's
// environment and the binary finds them through the SDK's default chain.
func addAWS(t *Template, key string) {
	t.ActionType = ActionAwsScript
	for k, v := range map[string]string{
		"OctopusUseBundledTooling":                            "False",
		"Octopus.Action.AwsAccount.Variable":                  "#{" + AWSAccountParam + "}",
		"Octopus.Action.AwsAccount.UseInstanceRole":           "#{" + awsInstanceRole + "}",
		"Octopus.Action.Aws.AssumeRole":                       "#{" + awsAssumeRole + "}",
		"Octopus.Action.Aws.AssumedRoleArn":                   "#{" + awsRoleArn + "}",
		"Octopus.Action.Aws.AssumedRoleSession":               "#{" + awsRoleSession + "}",
		"Octopus.Action.Aws.AssumeRoleSessionDurationSeconds": "#{" + awsRoleDuration + "}",
		"Octopus.Action.Aws.AssumeRoleExternalId":             "#{" + awsRoleExternal + "}",
		"Octopus.Action.Aws.Region":                           "#{" + AWSRegionParam + "}",
	} {
		t.Properties[k] = v
	}
	t.Parameters = append(t.Parameters,
		fixedParam(key, AWSAccountParam, "AWS account", "The AWS account whose credentials the step runs with. Leave empty when the worker's instance role is used.", "", ControlAwsAccount),
		fixedParam(key, AWSRegionParam, "AWS region", "The AWS region, e.g. us-east-1. Octopus exports it as AWS_REGION for the step.", "", ControlSingleLine),
		fixedParam(key, awsInstanceRole, "Use the instance role", "Use the IAM role of the worker's EC2 instance instead of an AWS account.", "False", ControlCheckbox),
		fixedParam(key, awsAssumeRole, "Assume a role", "Assume an IAM role (below) with the account's or instance role's credentials.", "False", ControlCheckbox),
		fixedParam(key, awsRoleArn, "Role ARN", "ARN of the role to assume when 'Assume a role' is ticked.", "", ControlSingleLine),
		fixedParam(key, awsRoleSession, "Role session name", "Session name for the assumed role.", "bluegreen", ControlSingleLine),
		fixedParam(key, awsRoleDuration, "Role session duration (seconds)", "How long the assumed role's credentials last.", "3600", ControlSingleLine),
		fixedParam(key, awsRoleExternal, "Role external id", "External id required by the role's trust policy, if any.", "", ControlSingleLine),
	)
}

func apiKeyParameter(key string) Parameter {
	return fixedParam(key, APIKeyParam, "Octopus API key",
		"An API key (API-...) of a user or service account that may change the project's variables and the deployment targets. "+
			"Octopus does not give a step its own key. The server URL and the space come from the deployment itself.",
		"", ControlSensitive)
}

func packageParameter(key string) Parameter {
	return fixedParam(key, PackageParam, "bluegreen package",
		"The `bluegreen` package from the built-in feed (upload it with `bluegreen octopus push-package`). "+
			"It holds the linux/amd64 and linux/arm64 binaries; the step picks the one that matches the worker.",
		"", ControlPackage)
}

// recoverParam chooses what a run does when the last one never finished.
// Octopus retries a failed step by running it again, so the default rolls
// the crashed run back first: a release heals without a person.
func recoverParam() Parameter {
	p := fixedParam(RunbookKey, runbookRecover, "If the last run did not finish",
		"What to do when the previous run of this runbook never finished (the worker died, the step was cancelled, or on_failure: stop kept its changes): roll it back and then run, finish it, or fail the step.",
		"rollback", ControlSelect)
	p.DisplaySettings[selectOptionsKey] = "rollback|Roll it back, then run\nresume|Finish it\nfail|Fail the step"
	return p
}

func fixedParam(key, name, label, help, def, control string) Parameter {
	p := Parameter{
		ID:              stableID("template:" + key + "/param:" + name),
		Name:            name,
		Label:           label,
		HelpText:        help,
		DisplaySettings: map[string]string{controlTypeKey: control},
	}
	if control != ControlSensitive {
		p.DefaultValue = &def
	}
	return p
}

// specParam maps a step param to a template parameter: the control type
// follows the param's type (bool: Checkbox, enum: Select, sensitive:
// Sensitive, list and map: MultiLineText in YAML), the help text is the
// param's doc plus what the value must look like.
func specParam(kind string, p steps.Param) Parameter {
	name := paramPrefix + p.Name
	control := ControlSingleLine
	display := map[string]string{}
	switch {
	case p.Sensitive:
		control = ControlSensitive
	case p.Type == steps.Bool:
		control = ControlCheckbox
	case len(p.Enum) > 0:
		control = ControlSelect
		opts := make([]string, len(p.Enum))
		for i, e := range p.Enum {
			opts[i] = e + "|" + e
		}
		display[selectOptionsKey] = strings.Join(opts, "\n")
	case p.Type == steps.List || p.Type == steps.Map:
		control = ControlMultiLine
	}
	display[controlTypeKey] = control

	var help []string
	if p.Required {
		help = append(help, "Required.")
	}
	help = append(help, p.Doc)
	switch p.Type {
	case steps.List:
		help = append(help, "A YAML list: `[a, b]`, or one `- item` per line.")
	case steps.Map:
		help = append(help, "A YAML map: `{key: value}`, or one `key: value` per line.")
	case steps.Duration:
		help = append(help, "A duration such as `30s`, `5m` or `1h30m`.")
	}
	if len(p.Examples) > 0 && !p.Sensitive {
		ex := make([]string, len(p.Examples))
		for i, e := range p.Examples {
			ex[i] = "`" + steps.FormatValue(e) + "`"
		}
		help = append(help, "Example: "+strings.Join(ex, ", ")+".")
	}
	if !p.Required && p.Default == nil && p.Type != steps.Bool {
		help = append(help, "Optional: leave empty to omit.")
	}

	prm := Parameter{
		ID:              stableID("template:" + kind + "/param:" + p.Name),
		Name:            name,
		Label:           label(p.Name),
		HelpText:        strings.Join(help, "\n\n"),
		DisplaySettings: display,
	}
	if !p.Sensitive {
		def := ""
		switch {
		case p.Type == steps.Bool:
			def = "False"
			if b, _ := p.Default.(bool); b {
				def = "True"
			}
		case p.Default != nil:
			def = steps.FormatValue(p.Default)
		}
		prm.DefaultValue = &def
	}
	return prm
}

// label turns a param name into a UI label: "target_group" → "Target group".
func label(name string) string {
	s := strings.ReplaceAll(name, "_", " ")
	return strings.ToUpper(s[:1]) + s[1:]
}

func stepDescription(s *steps.Spec) string {
	var b strings.Builder
	b.WriteString(s.Summary)
	if s.Doc != "" {
		b.WriteString("\n\n" + s.Doc)
	}
	fmt.Fprintf(&b, "\n\nRuns `bluegreen step run %s` from the `bluegreen` package.", s.Kind)
	if s.Mutates {
		b.WriteString(" The step changes the outside world; run it inside a runbook (\"" + RunbookTemplateName + "\") to have the change undone when a later gate fails.")
	}
	if len(s.Outputs) > 0 {
		b.WriteString("\n\n## Output variables\n")
		for _, o := range s.Outputs {
			fmt.Fprintf(&b, "\n- `%s` (%s): %s", o.Name, o.Type, o.Doc)
		}
	}
	return b.String()
}

func runbookTemplate() Template {
	t := baseTemplate(RunbookKey, RunbookTemplateName,
		"Runs a bluegreen runbook: a YAML file that moves traffic from the live colour to the idle one, "+
			"gating every move on live health data and undoing what it did when a gate fails.\n\n"+
			"The runbook comes from a package (path inside it) or is pasted inline. "+
			"Use Phase to split a release around a manual intervention (e.g. `prepare`, then `promote`).\n\n"+
			"## Output variables\n\n"+
			"- `BlueGreen.Live`: the colour that serves production after the run\n"+
			"- `BlueGreen.Idle`: the other colour\n"+
			"- `BlueGreen.RunId`: the run's id (for `bluegreen resume` and `bluegreen rollback`)\n"+
			"- `BlueGreen.Steps.<step id>.<output>`: every output of every step that has an id")
	t.Category = "aws"
	t.Packages = append(t.Packages, packageRef(RunbookKey, runbookPackage, RunbookPackageParam))
	t.Parameters = append(t.Parameters,
		fixedParam(RunbookKey, RunbookPackageParam, "Runbook package", "The package that holds the runbook file. Leave empty when the runbook is given inline.", "", ControlPackage),
		fixedParam(RunbookKey, runbookPathParam, "Runbook path", "Path of the runbook YAML inside the runbook package, e.g. `deploy/runbook.yaml`.", "runbook.yaml", ControlSingleLine),
		fixedParam(RunbookKey, RunbookYAMLParam, "Inline runbook", "The runbook YAML itself. When set, it is used instead of the package.", "", ControlMultiLine),
		fixedParam(RunbookKey, RunbookInputsParam, "Inputs", "The runbook's inputs, one `key=value` per line (lines starting with # are ignored). They reach bluegreen in a file only the step's user can read (`--set-file`), never as command-line arguments, so a secret among them stays out of `ps`.", "", ControlMultiLine),
		fixedParam(RunbookKey, RunbookPhaseParam, "Phase", "Run only the steps of this phase (e.g. `prepare`, `promote`). Leave empty to run every phase.", "", ControlSingleLine),
		fixedParam(RunbookKey, RunbookStateParam, "State", "Where the journal, the lock and the live colour are kept between steps and deployments: a folder on the worker, or `dynamodb://TABLE` when the steps of one release may run on different workers (a worker pool). Empty: `~/.bluegreen/<project id>/<environment id>` on the worker. A package's extraction folder is never used: each step gets a new one, so phases and rollbacks after a crash would lose their journal.", "", ControlSingleLine),
		recoverParam(),
		apiKeyParameter(RunbookKey),
	)
	addAWS(&t, RunbookKey)
	t.Parameters = append(t.Parameters, packageParameter(RunbookKey))
	t.Properties["Octopus.Action.Script.ScriptBody"] = runbookScript()
	return t
}
