package engine

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// Load reads and validates a runbook file against a registry. Every problem
// is reported, each with file:line:col, in one *InvalidError.
func Load(path string, reg *steps.Registry) (*Runbook, error) {
	src, err := readLimited(path, "runbook", MaxRunbookBytes)
	if err != nil {
		return nil, err
	}
	return Parse(path, src, reg)
}

// Parse validates runbook source. name is used in diagnostics.
func Parse(name string, src []byte, reg *steps.Registry) (rb *Runbook, err error) {
	d := newDiags(name, src)
	// The YAML library and expr are not ours: a panic in either on hostile
	// input must come out as a diagnostic, never reach the user as a crash.
	defer func() {
		if r := recover(); r != nil {
			d.add(Pos{1, 1}, "internal error while parsing: %v", r)
			rb, err = nil, d.err()
		}
	}()
	if len(src) > MaxRunbookBytes {
		d.add(Pos{1, 1}, "runbook is larger than the limit of %s", byteSize(MaxRunbookBytes))
		return nil, d.err()
	}
	var doc yaml.Node
	if extra, err := decodeOne(src, &doc); err != nil {
		d.add(yamlErrPos(err), "invalid YAML: %s", yamlErrMsg(err))
		return nil, d.err()
	} else if extra != nil {
		d.add(*extra, "%s", secondDocument)
		return nil, d.err()
	}
	if len(doc.Content) == 0 {
		d.add(Pos{1, 1}, "expected a runbook (a mapping with version, name and steps), found an empty document")
		return nil, d.err()
	}
	p := &parser{d: d, reg: reg, rb: &Runbook{File: name, OnFailure: "rollback", inputs: map[string]*Input{}}}
	p.mergeKeys(doc.Content[0], map[*yaml.Node]bool{})
	p.root(doc.Content[0])
	if err := d.err(); err != nil {
		return nil, err
	}
	p.rb.markTaint()
	return p.rb, nil
}

var (
	nameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)
	idRe   = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)
	varRe  = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
)

type parser struct {
	d   *diags
	reg *steps.Registry
	rb  *Runbook
	// allIDs maps every step id to its position; visible steps are those
	// that run before the current point.
	allIDs map[string]Pos
	phase  string
	// expanding holds the anchored nodes whose aliases are being expanded,
	// so an alias inside its own anchor (`&a [*a]`) is an error instead
	// of endless recursion; expanded counts the values built through
	// aliases, so a few lines of nested aliases cannot expand into
	// billions of values.
	expanding map[*yaml.Node]bool
	expanded  int
	// base, stepsTypes and outTypes cache the types of the scope; see
	// globals.
	base     []scopeField
	outTypes map[*steps.Spec]reflect.Type
	// laterAll and laterPending back later(): see there.
	laterAll, laterPending map[string]bool
	laterSeen              int
}

// stepOut is a step whose outputs later expressions may read.
type stepOut struct {
	id   string
	spec *steps.Spec
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		if len(n.Content) == 0 {
			return "an empty mapping"
		}
		return "a mapping"
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			return "an empty list"
		}
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing (null)"
		}
		return fmt.Sprintf("the %s %q", scalarType(n), n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "a document"
}

func scalarType(n *yaml.Node) string {
	switch n.Tag {
	case "!!int":
		return "integer"
	case "!!float":
		return "number"
	case "!!bool":
		return "bool"
	}
	return "string"
}

// fields checks a mapping's keys against the allowed ones and returns the
// value nodes by key. Unknown keys are errors, never ignored.
func (p *parser) fields(n *yaml.Node, what string, allowed ...string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	if n.Kind != yaml.MappingNode {
		p.d.add(pos(n), "%s: expected a mapping, found %s", what, kindName(n))
		return out
	}
	extensions := contains(allowed, extensionKeys)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if extensions && strings.HasPrefix(k.Value, "x-") {
			// Extension keys hold anchors for merge keys and aliases
			// (x-aws: &aws {...}); the runbook itself ignores them.
			continue
		}
		if !contains(allowed, k.Value) {
			names, more := allowed, ""
			if extensions {
				names, more = allowed[:len(allowed)-1], ", or x-<name> to hold anchors"
			}
			p.d.add(pos(k), "%s: unknown key %q%s (expected one of: %s%s)", what, k.Value, hint(k.Value, names), strings.Join(names, ", "), more)
			continue
		}
		if _, dup := out[k.Value]; dup {
			p.d.add(pos(k), "%s: key %q appears twice", what, k.Value)
			continue
		}
		out[k.Value] = v
	}
	return out
}

// extensionKeys, passed to fields, allows keys starting with "x-" (as
// Compose files do), to hold anchors; it is never a key itself.
const extensionKeys = "x-*"

func (p *parser) str(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.d.add(pos(n), "%s: expected a string, found %s", what, kindName(n))
		return "", false
	}
	return n.Value, true
}

func (p *parser) duration(n *yaml.Node, what string) (time.Duration, bool) {
	s, ok := p.str(n, what)
	if !ok {
		return 0, false
	}
	dur, err := steps.ParseDuration(s)
	if err != nil {
		p.d.add(pos(n), "%s: %v", what, err)
		return 0, false
	}
	return dur, true
}

func (p *parser) integer(n *yaml.Node, what string) (int, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		p.d.add(pos(n), "%s: expected an integer, found %s", what, kindName(n))
		return 0, false
	}
	i, err := strconv.Atoi(n.Value)
	if err != nil {
		p.d.add(pos(n), "%s: expected an integer, found %q", what, n.Value)
		return 0, false
	}
	return i, true
}

func (p *parser) boolean(n *yaml.Node, what string) (bool, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		p.d.add(pos(n), "%s: expected true or false, found %s", what, kindName(n))
		return false, false
	}
	return n.Value == "true", true
}

func (p *parser) root(n *yaml.Node) {
	f := p.fields(n, "runbook", "version", "name", "description", "inputs", "colours", "detect", "steps", "on_failure", "key", extensionKeys)
	if n.Kind != yaml.MappingNode {
		return
	}
	rb := p.rb
	if v, ok := f["version"]; !ok {
		p.d.add(pos(n), "runbook: missing key \"version\" (expected version: 1)")
	} else if i, ok := p.integer(v, "version"); ok && i != 1 {
		p.d.add(pos(v), "version: expected 1, found %d", i)
	} else {
		rb.Version = i
	}
	if v, ok := f["name"]; !ok {
		p.d.add(pos(n), "runbook: missing key \"name\"")
	} else if s, ok := p.str(v, "name"); ok {
		if !nameRe.MatchString(s) {
			p.d.add(pos(v), "name: expected lower-case letters, digits, '-', '_' or '.', found %q", s)
		}
		rb.Name = s
	}
	if v, ok := f["description"]; ok {
		rb.Description, _ = p.str(v, "description")
	}
	if v, ok := f["on_failure"]; ok {
		if s, ok := p.str(v, "on_failure"); ok {
			if s != "rollback" && s != "stop" {
				p.d.add(pos(v), "on_failure: expected rollback or stop, found %q", s)
			}
			rb.OnFailure = s
		}
	}
	if v, ok := f["inputs"]; ok {
		p.inputs(v)
	}
	if v, ok := f["colours"]; ok {
		p.colours(v)
	} else {
		p.d.add(pos(n), "runbook: missing key \"colours\" (expected exactly two colours, e.g. blue and green)")
	}
	if v, ok := f["key"]; ok {
		p.stateKey(v)
	}
	p.allIDs = map[string]Pos{}
	if v, ok := f["steps"]; ok {
		p.collectIDs(v)
	}
	if v, ok := f["detect"]; ok {
		p.detect(v)
	}
	v, ok := f["steps"]
	if !ok {
		p.d.add(pos(n), "runbook: missing key \"steps\"")
		return
	}
	if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
		p.d.add(pos(v), "steps: expected a non-empty list of steps, found %s", kindName(v))
		return
	}
	p.phase = "main"
	var visible []stepOut
	rb.Steps = p.stepList(v, nil, &visible, "", true)
}
