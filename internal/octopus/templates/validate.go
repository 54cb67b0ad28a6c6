package templates

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

var (
	guidRe     = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	variableRe = regexp.MustCompile(`^#\{[^}]+\}$`)
	refRe      = regexp.MustCompile(`#\{([^}|]+?)\s*(\|[^}]*)?\}`)
)

// LibraryCategories are the categories that have a logo in the Octopus
// Library (step-templates/logos/<category>.png) and that bluegreen uses.
var LibraryCategories = []string{"aws", "octopus", "other", "bash"}

var knownControls = map[string]bool{
	ControlSingleLine: true, ControlMultiLine: true, ControlCheckbox: true, ControlSelect: true,
	ControlSensitive: true, ControlPackage: true, ControlAwsAccount: true,
	"StepName": true, "Certificate": true, "AzureAccount": true, "GoogleCloudAccount": true,
	"WorkerPool": true, "GenericOidcAccount": true, "UsernamePasswordAccount": true,
}

// ValidateLibrary applies the Octopus Library's rules for step templates
// (its spec/ tests) to a set of files, by file name, plus the rules
// bluegreen holds its own templates to: Bash scripts that never contain a
// #{...} substitution, that make the binary executable and read every
// parameter with get_octopusvariable, and parameters whose control types
// and defaults make sense. It returns every problem found.
func ValidateLibrary(files map[string][]byte) []error {
	var errs []error
	fail := func(file, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", file, fmt.Sprintf(format, a...)))
	}
	names := map[string]string{}
	ids := map[string]string{}
	var fileNames []string
	for f := range files {
		fileNames = append(fileNames, f)
	}
	sort.Strings(fileNames)
	for _, f := range fileNames {
		b := files[f]
		if !strings.HasSuffix(f, ".json") {
			fail(f, "template files must be named *.json")
		}
		if bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
			fail(f, "starts with a byte-order mark")
		}
		var t map[string]any
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(&t); err != nil {
			fail(f, "not valid JSON: %v", err)
			continue
		}
		str := func(k string) string { s, _ := t[k].(string); return s }

		if str("LastModifiedBy") == "" {
			fail(f, "LastModifiedBy is missing")
		}
		meta, _ := t["$Meta"].(map[string]any)
		if meta == nil || meta["ExportedAt"] == nil || meta["ExportedAt"] == "" {
			fail(f, "$Meta.ExportedAt is missing")
		} else if meta["Type"] != "ActionTemplate" {
			fail(f, "$Meta.Type is %v, want ActionTemplate", meta["Type"])
		}
		name := str("Name")
		switch {
		case name == "":
			fail(f, "Name is empty")
		case len(name) > 200:
			fail(f, "Name is longer than 200 characters")
		case names[name] != "":
			fail(f, "Name %q is also used by %s", name, names[name])
		default:
			names[name] = f
		}
		id := str("Id")
		switch {
		case !guidRe.MatchString(id):
			fail(f, "Id %q is not a GUID", id)
		case strings.Trim(id, "0-") == "":
			fail(f, "Id is all zeros")
		case ids[id] != "":
			fail(f, "Id %s is also used by %s", id, ids[id])
		default:
			ids[id] = f
		}
		if v, ok := t["Version"].(json.Number); !ok {
			fail(f, "Version is not a number")
		} else if n, err := v.Int64(); err != nil || n < 1 {
			fail(f, "Version %v is not a positive integer", v)
		}
		cat := str("Category")
		if !slices.Contains(LibraryCategories, cat) {
			fail(f, "Category %q has no logo in the Library (use one of %s)", cat, strings.Join(LibraryCategories, ", "))
		}
		pkgs, _ := t["Packages"].([]any)
		for i, p := range pkgs {
			pm, _ := p.(map[string]any)
			feed, present := pm["FeedId"]
			if present && feed != nil {
				if s, _ := feed.(string); !variableRe.MatchString(s) {
					fail(f, "Packages[%d].FeedId %v must be null or a #{variable}", i, feed)
				}
			}
		}
		errs = append(errs, validateBluegreen(f, t, pkgs)...)
	}
	return errs
}

// validateBluegreen holds a generated template to the rules of
// ARCHITECTURE.md's "Inside Octopus" section. pkgs is the template's
// Packages list, nil when it is missing or not a list.
func validateBluegreen(f string, t map[string]any, pkgs []any) []error {
	var errs []error
	fail := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", f, fmt.Sprintf(format, a...)))
	}
	actionType, _ := t["ActionType"].(string)
	if actionType != ActionScript && actionType != ActionAwsScript {
		fail("ActionType %q is neither %s nor %s", actionType, ActionScript, ActionAwsScript)
	}
	if t["StepPackageId"] != actionType {
		fail("StepPackageId %v differs from ActionType %s", t["StepPackageId"], actionType)
	}
	props, _ := t["Properties"].(map[string]any)
	prop := func(k string) string { s, _ := props[k].(string); return s }
	for k, v := range props {
		if _, ok := v.(string); !ok {
			fail("property %s is not a string", k)
		}
	}
	if prop("Octopus.Action.Script.Syntax") != "Bash" {
		fail("script syntax is %q, want Bash", prop("Octopus.Action.Script.Syntax"))
	}
	if prop("Octopus.Action.Script.ScriptSource") != "Inline" {
		fail("script source is %q, want Inline", prop("Octopus.Action.Script.ScriptSource"))
	}
	body := prop("Octopus.Action.Script.ScriptBody")
	if strings.Contains(body, "#{") {
		fail("the script body contains a #{...} substitution; read values with get_octopusvariable instead")
	}
	// pkgParams are the parameters that select a package, by name.
	pkgNames, pkgParams := map[string]bool{}, map[string]bool{}
	for _, p := range pkgs {
		pm, _ := p.(map[string]any)
		if n, _ := pm["Name"].(string); n != "" {
			pkgNames[n] = true
		}
		pp, _ := pm["Properties"].(map[string]any)
		if n, _ := pp["PackageParameterName"].(string); n != "" {
			pkgParams[n] = true
		}
	}
	if !pkgNames[PackageName] {
		fail("no package reference named %q", PackageName)
	}
	if !strings.Contains(body, `chmod +x "$bin"`) {
		fail("the script does not make the binary executable")
	}
	if !strings.Contains(body, "--octopus-output") {
		fail("the script does not pass --octopus-output")
	}

	params, _ := t["Parameters"].([]any)
	byName := map[string]map[string]any{}
	pids := map[string]bool{}
	for i, p := range params {
		pm, _ := p.(map[string]any)
		name, _ := pm["Name"].(string)
		if name == "" || strings.HasPrefix(name, "$") {
			fail("Parameters[%d].Name %q is empty or starts with $", i, name)
			continue
		}
		if byName[name] != nil {
			fail("parameter %s declared twice", name)
		}
		byName[name] = pm
		pid, _ := pm["Id"].(string)
		if !guidRe.MatchString(pid) || pids[pid] {
			fail("parameter %s: Id %q is not a unique GUID", name, pid)
		}
		pids[pid] = true
		if l, _ := pm["Label"].(string); l == "" {
			fail("parameter %s has no label", name)
		}
		if h, _ := pm["HelpText"].(string); h == "" {
			fail("parameter %s has no help text", name)
		}
		ds, _ := pm["DisplaySettings"].(map[string]any)
		control, _ := ds[controlTypeKey].(string)
		if !knownControls[control] {
			fail("parameter %s: unknown control type %q", name, control)
		}
		def, hasDef := pm["DefaultValue"]
		if hasDef && def != nil {
			if _, ok := def.(string); !ok {
				fail("parameter %s: DefaultValue %v is not a string", name, def)
			}
		}
		switch control {
		case ControlCheckbox:
			if def != "True" && def != "False" {
				fail("parameter %s: a Checkbox defaults to True or False, not %v", name, def)
			}
		case ControlSensitive:
			if def != nil && def != "" {
				fail("parameter %s: a Sensitive parameter must not carry a default", name)
			}
		case ControlSelect:
			opts, _ := ds[selectOptionsKey].(string)
			if opts == "" {
				fail("parameter %s: a Select has no options", name)
			}
			for _, o := range strings.Split(opts, "\n") {
				if !strings.Contains(o, "|") {
					fail("parameter %s: select option %q is not value|text", name, o)
				}
			}
		}
		// A parameter reaches the step in one of three ways: the script
		// reads it, an action property refers to it, or it selects a
		// package.
		read := strings.Contains(body, `"`+name+`"`)
		referenced := false
		for _, v := range props {
			s, _ := v.(string)
			for _, m := range refRe.FindAllStringSubmatch(s, -1) {
				referenced = referenced || m[1] == name
			}
		}
		if control == ControlPackage {
			referenced = pkgParams[name]
		}
		if !read && !referenced {
			fail("parameter %s is never used: the script does not read it and no property refers to it", name)
		}
	}
	if actionType == ActionAwsScript {
		acct := prop("Octopus.Action.AwsAccount.Variable")
		m := refRe.FindStringSubmatch(acct)
		if m == nil || byName[m[1]] == nil {
			fail("Octopus.Action.AwsAccount.Variable %q does not refer to a parameter", acct)
		} else if ds, _ := byName[m[1]]["DisplaySettings"].(map[string]any); ds[controlTypeKey] != ControlAwsAccount {
			fail("the AWS account parameter %s is not of control type %s", m[1], ControlAwsAccount)
		}
		for _, k := range []string{"Octopus.Action.Aws.Region", "Octopus.Action.AwsAccount.UseInstanceRole", "Octopus.Action.Aws.AssumeRole"} {
			if prop(k) == "" {
				fail("AWS template without property %s", k)
			}
		}
	}
	return errs
}
