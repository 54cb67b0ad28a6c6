package engine

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

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
	yamlLineRe = regexp.MustCompile(`line (\d+)`)
	nameRe     = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)
	idRe       = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)
	varRe      = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
)

func yamlErrPos(err error) Pos {
	if m := yamlLineRe.FindStringSubmatch(err.Error()); m != nil {
		l, _ := strconv.Atoi(m[1])
		// yaml.v3 reports a parser error (as opposed to a scanner error)
		// with a zero-based line: the line before the one meant.
		if isYAMLParserError(err.Error()) {
			l++
		}
		return Pos{l, 1}
	}
	return Pos{1, 1}
}

// yamlParserProblems are the problems yaml.v3's parser (not its scanner)
// reports; see isYAMLParserError.
var yamlParserProblems = []string{
	"did not find expected ',' or ']'", "did not find expected ',' or '}'",
	"did not find expected '-' indicator", "did not find expected <document start>",
	"did not find expected <stream-start>", "did not find expected key",
	"did not find expected node content", "found duplicate %TAG directive",
	"found duplicate %YAML directive", "found incompatible YAML document",
	"found undefined tag handle",
}

func isYAMLParserError(msg string) bool {
	for _, p := range yamlParserProblems {
		if strings.HasSuffix(msg, p) {
			return true
		}
	}
	return false
}

func yamlErrMsg(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	s = regexp.MustCompile(`^line \d+: `).ReplaceAllString(s, "")
	return s
}

type parser struct {
	d   *diags
	reg *steps.Registry
	rb  *Runbook
	// allIDs maps every step id to its position; visible steps are those
	// that run before the current point.
	allIDs  map[string]Pos
	phase   string
	nextSeq int
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

// maxAliasValues bounds the values a runbook may build through aliases.
const maxAliasValues = 10000

// stepOut is a step whose outputs later expressions may read.
type stepOut struct {
	id   string
	spec *steps.Spec
}

func pos(n *yaml.Node) Pos { return Pos{n.Line, n.Column} }

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

// mergeKeys expands YAML merge keys in place: `<<: *defaults` (or a list of
// aliases, or a mapping) adds the pairs of the merged mappings that the
// mapping does not set itself, as YAML 1.1 defines them. Done once, before
// anything reads the document, so every later check sees plain pairs; the
// merged pairs keep their positions, so errors point at the anchored text.
func (p *parser) mergeKeys(n *yaml.Node, stack map[*yaml.Node]bool) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			p.mergeKeys(c, stack)
		}
	case yaml.MappingNode:
		if stack[n] {
			return
		}
		stack[n] = true
		defer delete(stack, n)
		var explicit, merges []*yaml.Node
		set := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Tag == "!!merge" {
				merges = append(merges, v)
				continue
			}
			set[k.Value] = true
			explicit = append(explicit, k, v)
			p.mergeKeys(v, stack)
		}
		if len(merges) == 0 {
			return
		}
		out := explicit
		for _, m := range merges {
			var sources []*yaml.Node
			switch m.Kind {
			case yaml.SequenceNode:
				sources = m.Content
			default:
				sources = []*yaml.Node{m}
			}
			for _, src := range sources {
				at := src
				if src.Kind == yaml.AliasNode && src.Alias != nil {
					src = src.Alias
				}
				if src.Kind != yaml.MappingNode {
					p.d.add(pos(at), "<<: expected an alias of a mapping (<<: *defaults) or a list of them, found %s", kindName(src))
					continue
				}
				if stack[src] {
					p.d.add(pos(at), "<<: the merged mapping (anchored at line %d) contains this merge, which would never end", src.Line)
					continue
				}
				p.mergeKeys(src, stack)
				for i := 0; i+1 < len(src.Content); i += 2 {
					k := src.Content[i]
					if set[k.Value] {
						continue
					}
					if p.expanded++; p.expanded > maxAliasValues {
						p.d.add(pos(at), "merge keys expand to more than %d values; write the values out", maxAliasValues)
						n.Content = out
						return
					}
					set[k.Value] = true
					out = append(out, k, src.Content[i+1])
				}
			}
		}
		n.Content = out
	}
}

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

// durationOrTmpl parses a duration written literally ("30s") or as one
// expression ("${{ inputs.bake }}"), whose static type must fit.
func (p *parser) durationOrTmpl(n *yaml.Node, what string, sc *scope, later map[string]bool) (time.Duration, *Tmpl, bool) {
	if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, "${{") {
		t := p.tmpl(n, sc, later)
		if t.kind != tmplExpr {
			p.d.add(pos(n), "%s: expected a duration or exactly one ${{ }} expression, found %q", what, n.Value)
			return 0, nil, false
		}
		if t.expr != nil {
			if typ := t.expr.Type(); typ != nil && !durationExpr(typ) {
				p.d.add(t.expr.Pos, "%s: expected a duration, found an expression of type %s%s", what, typeWord(typ), durationHint(typ))
				return 0, nil, false
			}
		}
		return 0, t, true
	}
	d, ok := p.duration(n, what)
	return d, nil, ok
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

func (p *parser) inputs(n *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		p.d.add(pos(n), "inputs: expected a mapping of input names, found %s", kindName(n))
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := k.Value
		if !varRe.MatchString(name) {
			p.d.add(pos(k), "inputs: expected a name of lower-case letters, digits and '_', found %q", name)
			continue
		}
		if _, dup := p.rb.inputs[name]; dup {
			p.d.add(pos(k), "inputs: %q is declared twice", name)
			continue
		}
		in := &Input{Name: name, Type: steps.String, Required: true, Pos: pos(k)}
		what := "input " + name
		f := p.fields(v, what, "type", "description", "default", "required", "sensitive", "enum", "validate")
		if t, ok := f["type"]; ok {
			if s, ok := p.str(t, what+": type"); ok {
				switch steps.Type(s) {
				case steps.String, steps.Int, steps.Number, steps.Bool, steps.Duration, steps.List, steps.Map:
					in.Type = steps.Type(s)
				default:
					p.d.add(pos(t), "%s: type: expected one of string, int, number, bool, duration, list, map, found %q", what, s)
				}
			}
		}
		if x, ok := f["description"]; ok {
			in.Description, _ = p.str(x, what+": description")
		}
		if x, ok := f["sensitive"]; ok {
			in.Sensitive, _ = p.boolean(x, what+": sensitive")
		}
		if x, ok := f["enum"]; ok {
			if x.Kind != yaml.SequenceNode {
				p.d.add(pos(x), "%s: enum: expected a list of strings, found %s", what, kindName(x))
			} else {
				for _, e := range x.Content {
					if s, ok := p.str(e, what+": enum"); ok {
						in.Enum = append(in.Enum, s)
					}
				}
			}
		}
		if x, ok := f["default"]; ok {
			in.Required = false
			var raw any
			if err := x.Decode(&raw); err != nil {
				p.d.add(pos(x), "%s: default: %v", what, err)
			} else if cv, err := steps.Coerce(in.Type, "", steps.Normalize(raw)); err != nil {
				p.d.add(pos(x), "%s: default: %v", what, err)
			} else {
				in.Default = cv
			}
		}
		if x, ok := f["required"]; ok {
			if b, ok := p.boolean(x, what+": required"); ok {
				if b && in.Default != nil {
					p.d.add(pos(x), "%s: required: an input with a default cannot be required", what)
				}
				in.Required = b
			}
		}
		if len(in.Enum) > 0 && in.Default != nil {
			if s, _ := in.Default.(string); !contains(in.Enum, s) {
				p.d.add(pos(f["default"]), "%s: default: expected one of %s, found %q", what, strings.Join(in.Enum, ", "), s)
			}
		}
		if x, ok := f["validate"]; ok {
			p.inputRules(x, in, what)
			if in.Default != nil {
				if msg := in.check(in.Default); msg != "" {
					p.d.add(pos(f["default"]), "%s: default: %s", what, msg)
				}
			}
		}
		p.rb.Inputs = append(p.rb.Inputs, in)
		p.rb.inputs[name] = in
	}
}

// inputsType is the typed struct of the declared inputs.
func (p *parser) inputsType() reflect.Type {
	var f []scopeField
	for _, in := range p.rb.Inputs {
		f = append(f, scopeField{name: in.Name, typ: goType(in.Type)})
	}
	t, _ := structOf(f)
	return t
}

// colourType is the struct every colour, live and idle share: the union of
// the colours' attribute names plus name.
func (p *parser) colourType() reflect.Type {
	f := []scopeField{{name: "name", typ: reflect.TypeOf("")}}
	for _, c := range p.rb.Colours {
		for _, a := range c.Attrs {
			f = append(f, scopeField{name: a.Name, typ: anyType})
		}
	}
	t, _ := structOf(f)
	return t
}

func (p *parser) runType() reflect.Type {
	t, _ := structOf([]scopeField{{name: "id", typ: reflect.TypeOf("")}, {name: "started", typ: reflect.TypeOf(time.Time{})}, {name: "phase", typ: reflect.TypeOf("")}})
	return t
}

// globals are the names every step-level expression sees. inputs,
// colours and run do not change once the steps are reached, so their
// types are built once; steps is a view of the visible steps (see
// scope_steps.go), which keeps loading linear in the number of steps.
func (p *parser) globals(visible []stepOut) []scopeField {
	if p.base == nil {
		ct := p.colourType()
		var cf []scopeField
		for _, c := range p.rb.Colours {
			cf = append(cf, scopeField{name: c.Name, typ: ct})
		}
		colours, _ := structOf(cf)
		p.base = []scopeField{
			{name: "inputs", typ: p.inputsType()}, {name: "colours", typ: colours}, {name: "live", typ: ct}, {name: "idle", typ: ct},
			{name: "steps"}, {name: "run", typ: p.runType()},
		}
	}
	g := append([]scopeField(nil), p.base...)
	g[4] = p.stepsField(visible)
	return g
}

func outputsType(s *steps.Spec) reflect.Type {
	t, _ := structOf(outputFields(s))
	return t
}

func outputFields(s *steps.Spec) []scopeField {
	var f []scopeField
	for _, o := range s.Outputs {
		f = append(f, scopeField{name: o.Name, typ: goType(o.Type)})
	}
	return f
}

func (p *parser) colours(n *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		p.d.add(pos(n), "colours: expected a mapping of exactly two colours, found %s", kindName(n))
		return
	}
	if len(n.Content) != 4 {
		// Point at the first colour too many, or at the only one.
		at := pos(n)
		var names []string
		for i := 0; i+1 < len(n.Content); i += 2 {
			names = append(names, n.Content[i].Value)
		}
		if len(n.Content) > 4 {
			at = pos(n.Content[4])
		}
		p.d.add(at, "colours: expected exactly two colours, found %d (%s)", len(names), list(names))
	}
	inScope := newScope([]scopeField{{name: "inputs", typ: p.inputsType()}, {name: "run", typ: p.runType()}})
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !idRe.MatchString(k.Value) {
			p.d.add(pos(k), "colours: expected a colour name of lower-case letters, digits, '-' or '_', found %q", k.Value)
			continue
		}
		if p.rb.Colour(k.Value) != nil {
			p.d.add(pos(k), "colours: %q is declared twice", k.Value)
			continue
		}
		c := &Colour{Name: k.Value, Pos: pos(k)}
		if v.Kind != yaml.MappingNode {
			p.d.add(pos(v), "colour %s: expected a mapping of attributes, found %s", k.Value, kindName(v))
			continue
		}
		for j := 0; j+1 < len(v.Content); j += 2 {
			ak, av := v.Content[j], v.Content[j+1]
			if ak.Value == "name" {
				p.d.add(pos(ak), "colour %s: \"name\" is reserved (it is the colour's own name)", k.Value)
				continue
			}
			if !varRe.MatchString(ak.Value) {
				p.d.add(pos(ak), "colour %s: expected an attribute name of lower-case letters, digits and '_', found %q", k.Value, ak.Value)
				continue
			}
			c.Attrs = append(c.Attrs, &Attr{Name: ak.Value, Value: p.tmpl(av, inScope, nil)})
		}
		p.rb.Colours = append(p.rb.Colours, c)
	}
}

func (p *parser) detect(n *yaml.Node) {
	f := p.fields(n, "detect", "uses", "with", "live")
	if n.Kind != yaml.MappingNode {
		return
	}
	det := &Detect{}
	st := &Step{Pos: pos(n), seg: "detect"}
	base := p.globals(nil)
	// detect runs before live and idle are known.
	base = []scopeField{base[0], base[1], base[5]}
	sc := newScope(base)
	if u, ok := f["uses"]; ok {
		st.Uses, st.Spec = p.uses(u)
		if st.Spec != nil && st.Spec.Mutates {
			p.d.add(pos(u), "detect: uses: expected a read-only step, found %s, which changes things", st.Uses)
		}
	} else {
		p.d.add(pos(n), "detect: missing key \"uses\"")
	}
	if w, ok := f["with"]; ok && st.Spec != nil {
		st.With = p.with(w, st.Spec, sc, n)
	} else if st.Spec != nil {
		p.checkRequired(st.Spec, nil, pos(n))
	}
	det.Step = st
	if l, ok := f["live"]; ok {
		if st.Spec != nil {
			lsc := newScope(append(outputFields(st.Spec), base...))
			det.Live = p.boolOrExpr(l, "detect: live", lsc, compileOpts{asString: true})
		}
	} else {
		p.d.add(pos(n), "detect: missing key \"live\" (an expression naming the live colour)")
	}
	p.rb.Detect = det
}

// collectIDs finds every step id up front, so a reference to a step that
// runs later gets its own message, and duplicate ids are reported once.
func (p *parser) collectIDs(n *yaml.Node) {
	if n.Kind != yaml.SequenceNode {
		return
	}
	for _, s := range n.Content {
		if s.Kind != yaml.MappingNode {
			continue
		}
		for i := 0; i+1 < len(s.Content); i += 2 {
			k, v := s.Content[i], s.Content[i+1]
			switch k.Value {
			case "id":
				if v.Kind == yaml.ScalarNode && v.Value != "" {
					if first, dup := p.allIDs[v.Value]; dup {
						p.d.add(pos(v), "id: %q is already used by the step at line %d", v.Value, first.Line)
					} else {
						p.allIDs[v.Value] = pos(v)
					}
				}
			case "steps":
				p.collectIDs(v)
			}
		}
	}
}

// stepList parses a list of steps. visible is updated as steps with ids are
// parsed; locals are foreach variables in scope. parent names the foreach
// the list belongs to ("" at the top), for messages about steps without id.
func (p *parser) stepList(n *yaml.Node, locals []scopeField, visible *[]stepOut, parent string, top bool) []*Step {
	var out []*Step
	for i, sn := range n.Content {
		num := strconv.Itoa(i + 1)
		if parent != "" {
			num = parent + "." + num
		}
		st := p.step(sn, i, num, locals, visible, top)
		if st != nil {
			out = append(out, st)
		}
	}
	return out
}

// later returns the ids of steps that run after the point where visible
// is what has run. Steps only become visible in order (visible grows by
// append), so one map is kept and each id is removed once when it becomes
// visible: building a fresh map per step made loading quadratic. The map
// is only read while the current step is parsed, so sharing it is safe.
func (p *parser) later(visible []stepOut) map[string]bool {
	if p.laterAll == nil {
		p.laterAll, p.laterPending = map[string]bool{}, map[string]bool{}
		for id := range p.allIDs {
			p.laterAll[id] = true
			p.laterPending[id] = true
		}
	}
	if visible == nil {
		return p.laterAll
	}
	for ; p.laterSeen < len(visible); p.laterSeen++ {
		delete(p.laterPending, visible[p.laterSeen].id)
	}
	return p.laterPending
}

// stepRef is how messages name a step: by its id when it has one, else by
// its 1-based number in the runbook ("step 3", or "step shift.2" for the
// second step inside the foreach shift).
func stepRef(n *yaml.Node, num string) string {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k, v := n.Content[i], n.Content[i+1]; k.Value == "id" && v.Kind == yaml.ScalarNode && v.Value != "" {
				return v.Value
			}
		}
	}
	return num
}

func (p *parser) step(n *yaml.Node, index int, num string, locals []scopeField, visible *[]stepOut, top bool) *Step {
	ref := stepRef(n, num)
	what := "step " + ref
	f := p.fields(n, what, "id", "name", "uses", "with", "if", "gate", "foreach", "as", "steps", "phase", "timeout")
	if n.Kind != yaml.MappingNode {
		return nil
	}
	st := &Step{Pos: pos(n), seg: fmt.Sprintf("#%d", index)}
	if v, ok := f["id"]; ok {
		if s, ok := p.str(v, "id"); ok {
			if !idRe.MatchString(s) {
				p.d.add(pos(v), "id: expected lower-case letters, digits, '-' or '_' starting with a letter, found %q", s)
			}
			st.ID, st.seg = s, s
		}
	}
	if v, ok := f["name"]; ok {
		st.Name, _ = p.str(v, what+": name")
	}
	if v, ok := f["phase"]; ok {
		if s, ok := p.str(v, what+": phase"); ok {
			if !top {
				p.d.add(pos(v), "%s: phase: only top-level steps can start a phase (steps inside foreach run in the loop's phase)", what)
			} else if !idRe.MatchString(s) {
				p.d.add(pos(v), "%s: phase: expected lower-case letters, digits, '-' or '_', found %q", what, s)
			} else {
				p.phase = s
			}
		}
	}
	st.Phase = p.phase
	if !contains(p.rb.Phases, p.phase) {
		p.rb.Phases = append(p.rb.Phases, p.phase)
	}
	sc := newScope(append(append([]scopeField{}, locals...), p.globals(*visible)...))
	later := p.later(*visible)
	if v, ok := f["timeout"]; ok {
		st.Timeout, st.timeoutT, _ = p.durationOrTmpl(v, what+": timeout", sc, later)
	}
	if v, ok := f["if"]; ok {
		st.If = p.boolOrExpr(v, what+": if", sc, compileOpts{asBool: true})
	}
	_, hasUses := f["uses"]
	_, hasForeach := f["foreach"]
	switch {
	case hasUses && hasForeach:
		p.d.add(pos(n), "%s: expected either uses or foreach, found both", what)
		return nil
	case !hasUses && !hasForeach:
		p.d.add(pos(n), "%s: expected uses (a step kind) or foreach (a loop), found neither", what)
		return nil
	}
	if hasForeach {
		for _, k := range []string{"with", "gate"} {
			if v, ok := f[k]; ok {
				p.d.add(pos(v), "%s: %s is not allowed on a foreach (put it on the nested steps)", what, k)
			}
		}
		fe := f["foreach"]
		st.Foreach = p.tmpl(fe, sc, later)
		if st.Foreach != nil {
			p.checkList(st.Foreach, fe, what)
		}
		st.As = "item"
		if v, ok := f["as"]; ok {
			if s, ok := p.str(v, what+": as"); ok {
				if !varRe.MatchString(s) {
					p.d.add(pos(v), "%s: as: expected a name of lower-case letters, digits and '_', found %q", what, s)
				} else if contains([]string{"inputs", "colours", "live", "idle", "steps", "run", "elapsed", "attempt"}, s) {
					p.d.add(pos(v), "%s: as: %q would hide the runbook's own %s; choose another name", what, s, s)
				} else {
					st.As = s
				}
			}
		}
		body, ok := f["steps"]
		if !ok {
			p.d.add(pos(n), "%s: foreach needs steps (the nested steps to repeat)", what)
			return st
		}
		if body.Kind != yaml.SequenceNode || len(body.Content) == 0 {
			p.d.add(pos(body), "%s: steps: expected a non-empty list of steps, found %s", what, kindName(body))
			return st
		}
		inner := append([]scopeField{{name: st.As, typ: anyType}, {name: st.As + "_index", typ: reflect.TypeOf(0)}}, locals...)
		st.Steps = p.stepList(body, inner, visible, ref, false)
		return st
	}
	if v, ok := f["as"]; ok {
		p.d.add(pos(v), "%s: as is only allowed with foreach", what)
	}
	if v, ok := f["steps"]; ok {
		p.d.add(pos(v), "%s: nested steps are only allowed with foreach", what)
	}
	st.Uses, st.Spec = p.uses(f["uses"])
	if st.Spec == nil {
		return st
	}
	if w, ok := f["with"]; ok {
		st.With = p.withLater(w, st.Spec, sc, n, later)
	} else {
		p.checkRequired(st.Spec, nil, pos(n))
	}
	if g, ok := f["gate"]; ok {
		if st.Spec.Mutates {
			p.d.add(pos(g), "%s: gate: %s changes things and cannot be repeated as a gate (gates poll read-only steps)", what, st.Uses)
		} else {
			gsc := newScope(append(append([]scopeField{{name: "elapsed", typ: reflect.TypeOf(time.Duration(0))}, {name: "attempt", typ: reflect.TypeOf(0)}}, outputFields(st.Spec)...), append(append([]scopeField{}, locals...), p.globals(*visible)...)...))
			st.Gate = p.gate(g, what, gsc, sc, later)
		}
	}
	if st.ID != "" {
		*visible = append(*visible, stepOut{st.ID, st.Spec})
	}
	return st
}

func (p *parser) uses(n *yaml.Node) (string, *steps.Spec) {
	s, ok := p.str(n, "uses")
	if !ok {
		return "", nil
	}
	spec, found := p.reg.Lookup(s)
	if !found {
		p.d.add(pos(n), "uses: unknown step kind %q%s (run `bluegreen steps` to list them)", s, hint(s, p.reg.Kinds()))
		return s, nil
	}
	return s, spec
}

func (p *parser) gate(n *yaml.Node, what string, sc, outer *scope, later map[string]bool) *Gate {
	f := p.fields(n, what+": gate", "until", "fail", "every", "timeout", "passes", "max_errors")
	if n.Kind != yaml.MappingNode {
		return nil
	}
	g := &Gate{Every: DefaultGateEvery, Timeout: DefaultGateTimeout, Passes: 1, Pos: pos(n)}
	if v, ok := f["until"]; ok {
		g.Until = p.boolOrExprLater(v, what+": gate: until", sc, compileOpts{asBool: true}, later)
	}
	if v, ok := f["fail"]; ok {
		g.Fail = p.boolOrExprLater(v, what+": gate: fail", sc, compileOpts{asBool: true}, later)
	}
	if f["until"] == nil && f["fail"] == nil {
		p.d.add(pos(n), "%s: gate: expected until (the condition to wait for) or fail (the condition that fails at once), found neither", what)
	}
	if v, ok := f["every"]; ok {
		if d, t, ok := p.durationOrTmpl(v, what+": gate: every", outer, later); ok {
			if t == nil && d <= 0 {
				p.d.add(pos(v), "%s: gate: every: expected a duration above zero, found %q", what, v.Value)
			}
			g.Every, g.everyT = d, t
		}
	}
	if v, ok := f["timeout"]; ok {
		if d, t, ok := p.durationOrTmpl(v, what+": gate: timeout", outer, later); ok {
			if t == nil && d < 0 {
				p.d.add(pos(v), "%s: gate: timeout: expected a duration of zero (check once) or more, found %q", what, v.Value)
			}
			g.Timeout, g.timeoutT = d, t
		}
	}
	if v, ok := f["passes"]; ok {
		if i, ok := p.integer(v, what+": gate: passes"); ok {
			if i < 1 {
				p.d.add(pos(v), "%s: gate: passes: expected 1 or more, found %d", what, i)
			}
			g.Passes = i
		}
	}
	if v, ok := f["max_errors"]; ok {
		if i, ok := p.integer(v, what+": gate: max_errors"); ok {
			if i < 0 {
				p.d.add(pos(v), "%s: gate: max_errors: expected 0 (no limit) or more, found %d", what, i)
			}
			g.MaxErrors = i
		}
	}
	return g
}

// boolOrExpr compiles a condition written either bare (`healthy > 0`) or
// wrapped (`${{ healthy > 0 }}`).
func (p *parser) boolOrExpr(n *yaml.Node, what string, sc *scope, o compileOpts) *Expr {
	return p.boolOrExprLater(n, what, sc, o, p.later(nil))
}

func (p *parser) boolOrExprLater(n *yaml.Node, what string, sc *scope, o compileOpts, later map[string]bool) *Expr {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.d.add(pos(n), "%s: expected an expression, found %s", what, kindName(n))
		return nil
	}
	o.what = what
	src := n.Value
	at := p.valuePos(n)
	base := 0
	segs, off, err := scanTemplate(src)
	switch {
	case err != nil:
		p.d.add(at(off), "%s: %v", what, err)
		return nil
	case len(segs) == 1 && segs[0].isExpr:
		base, src = segs[0].offset, segs[0].text
	case strings.Contains(src, "${{"):
		p.d.add(at(0), "%s: expected one expression, found text mixed with ${{ }}", what)
		return nil
	default:
		trimmed := strings.TrimLeftFunc(src, unicode.IsSpace)
		base = utf8.RuneCountInString(src) - utf8.RuneCountInString(trimmed)
		src = strings.TrimSpace(src)
	}
	if src == "" {
		p.d.add(pos(n), "%s: expected an expression, found an empty string", what)
		return nil
	}
	return compileExpr(p.d, src, func(from int) Pos { return at(base + from) }, sc, o, later)
}

// valuePos maps a rune offset in a scalar's value to its line and column
// in the file, so that an expression error points at the offending token
// however the scalar is written: plain or quoted, with escapes (`\"` is two
// characters in the file but one in the value), over several lines, or as
// a | or > block whose indentation is not part of the value.
func (p *parser) valuePos(n *yaml.Node) func(off int) Pos {
	return func(off int) Pos { return locate(p.d.lines, n, off) }
}

func locate(lines []string, n *yaml.Node, off int) Pos {
	raw := func(l int) []rune {
		if l < 1 || l > len(lines) {
			return nil
		}
		return []rune(lines[l-1])
	}
	dq := n.Style&yaml.DoubleQuotedStyle != 0
	sq := n.Style&yaml.SingleQuotedStyle != 0
	line, col, indent := n.Line, n.Column, -1
	switch {
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		// The text starts on the line after the | or > indicator, at the
		// indentation of its first non-blank line.
		line++
		indent = 0
		for l := line; l <= len(lines); l++ {
			if r := raw(l); strings.TrimSpace(string(r)) != "" {
				indent = leadingSpace(r, -1)
				break
			}
		}
		col = 1 + leadingSpace(raw(line), indent)
	case dq || sq:
		col++
	}
	r := raw(line)
	val := []rune(n.Value)
	for i := 0; i < off && i < len(val); {
		if col-1 >= len(r) {
			// The raw line has ended: the value goes on at the next line's
			// text, and the line break is a newline or a space in it.
			if line >= len(lines) {
				break
			}
			line++
			r = raw(line)
			col = 1 + leadingSpace(r, indent)
			if val[i] == '\n' || val[i] == ' ' {
				i++
			}
			continue
		}
		c := r[col-1]
		switch {
		case dq && c == '\\':
			if col >= len(r) {
				// An escaped line break joins the lines without a space.
				col++
				continue
			}
			col += escapeLen(r[col])
			i++
		case sq && c == '\'':
			col += 2
			i++
		case c != val[i] && (c == ' ' || c == '\t'):
			// Blanks before a folded line break are not in the value.
			col++
		default:
			col++
			i++
		}
	}
	return Pos{line, col}
}

// leadingSpace counts a line's leading blanks, at most max (no limit when
// max is negative).
func leadingSpace(r []rune, max int) int {
	n := 0
	for n < len(r) && (r[n] == ' ' || r[n] == '\t') && (max < 0 || n < max) {
		n++
	}
	return n
}

// escapeLen is the length in the file of a double-quoted escape whose
// letter (after the backslash) is c.
func escapeLen(c rune) int {
	switch c {
	case 'x':
		return 4
	case 'u':
		return 6
	case 'U':
		return 10
	}
	return 2
}

// tmpl parses a value that may contain ${{ }}.
func (p *parser) tmpl(n *yaml.Node, sc *scope, later map[string]bool) *Tmpl {
	if later == nil {
		later = map[string]bool{}
	}
	if len(p.expanding) > 0 {
		if p.expanded++; p.expanded == maxAliasValues+1 {
			p.d.add(pos(n), "aliases expand to more than %d values; write the values out or use fewer nested aliases", maxAliasValues)
		}
	}
	t := &Tmpl{Pos: pos(n)}
	switch n.Kind {
	case yaml.SequenceNode:
		t.kind = tmplList
		for _, e := range n.Content {
			t.list = append(t.list, p.tmpl(e, sc, later))
		}
		return t
	case yaml.MappingNode:
		t.kind = tmplMap
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if seen[k.Value] {
				p.d.add(pos(k), "key %q appears twice", k.Value)
			}
			seen[k.Value] = true
			t.keys = append(t.keys, p.tmpl(k, sc, later))
			t.vals = append(t.vals, p.tmpl(n.Content[i+1], sc, later))
		}
		return t
	case yaml.AliasNode:
		switch {
		case n.Alias == nil:
			p.d.add(pos(n), "alias *%s: unknown anchor", n.Value)
		case p.expanding[n.Alias]:
			p.d.add(pos(n), "alias *%s is inside the value it refers to (anchored at line %d), which would never end", n.Value, n.Alias.Line)
		case p.expanded > maxAliasValues:
			// Reported once, when the limit was passed.
		default:
			if p.expanding == nil {
				p.expanding = map[*yaml.Node]bool{}
			}
			p.expanding[n.Alias] = true
			defer delete(p.expanding, n.Alias)
			return p.tmpl(n.Alias, sc, later)
		}
		return &Tmpl{kind: tmplLiteral, Pos: pos(n)}
	}
	if n.Tag != "!!str" || !strings.Contains(n.Value, "${{") {
		var v any
		if err := n.Decode(&v); err != nil {
			p.d.add(pos(n), "invalid value: %v", err)
		}
		t.kind, t.lit = tmplLiteral, steps.Normalize(v)
		if n.Tag == "!!str" {
			t.lit = strings.ReplaceAll(n.Value, "$${{", "${{")
		}
		return t
	}
	at := p.valuePos(n)
	segs, off, err := scanTemplate(n.Value)
	if err != nil {
		p.d.add(at(off), "%v", err)
		return t
	}
	compile := func(s segment) *Expr {
		return compileExpr(p.d, s.text, func(from int) Pos { return at(s.offset + from) }, sc, compileOpts{}, later)
	}
	if len(segs) == 1 && segs[0].isExpr {
		t.kind, t.expr = tmplExpr, compile(segs[0])
		if t.expr == nil {
			t.kind, t.lit = tmplLiteral, nil
		}
		return t
	}
	t.kind = tmplInterp
	for _, s := range segs {
		if s.isExpr {
			t.parts = append(t.parts, part{expr: compile(s)})
		} else {
			t.parts = append(t.parts, part{text: s.text})
		}
	}
	return t
}

func (p *parser) checkList(t *Tmpl, n *yaml.Node, what string) {
	switch t.kind {
	case tmplList:
		return
	case tmplLiteral:
		if t.lit != nil {
			p.d.add(pos(n), "%s: foreach: expected a list, found %s", what, steps.TypeOf(t.lit))
		}
	case tmplInterp:
		p.d.add(pos(n), "%s: foreach: expected a list, found a string (use exactly one ${{ }} to keep the list's type)", what)
	case tmplMap:
		p.d.add(pos(n), "%s: foreach: expected a list, found a map", what)
	case tmplExpr:
		if typ := t.expr.Type(); typ != nil && typ.Kind() != reflect.Interface && typ.Kind() != reflect.Slice && typ.Kind() != reflect.Array {
			p.d.add(t.expr.Pos, "%s: foreach: expected a list, found an expression of type %s", what, typeWord(typ))
		}
	}
}

func (p *parser) with(n *yaml.Node, spec *steps.Spec, sc *scope, stepNode *yaml.Node) *Tmpl {
	return p.withLater(n, spec, sc, stepNode, p.later(nil))
}

func (p *parser) withLater(n *yaml.Node, spec *steps.Spec, sc *scope, stepNode *yaml.Node, later map[string]bool) *Tmpl {
	if n.Kind != yaml.MappingNode {
		p.d.add(pos(n), "with: expected a mapping of params for %s, found %s", spec.Kind, kindName(n))
		return nil
	}
	t := &Tmpl{kind: tmplMap, Pos: pos(n)}
	given := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		prm := spec.Param(k.Value)
		if prm == nil {
			p.d.add(pos(k), "with: unknown param %q for %s%s (expected one of: %s)", k.Value, spec.Kind, hint(k.Value, spec.ParamNames()), list(spec.ParamNames()))
			continue
		}
		if given[k.Value] {
			p.d.add(pos(k), "with: param %q appears twice", k.Value)
			continue
		}
		given[k.Value] = true
		vt := p.tmpl(v, sc, later)
		p.checkParam(prm, vt, v, spec)
		t.keys = append(t.keys, &Tmpl{kind: tmplLiteral, lit: k.Value, Pos: pos(k)})
		t.vals = append(t.vals, vt)
	}
	p.checkRequired(spec, given, pos(stepNode))
	for _, pr := range checkRules(spec, t, nil, pos(stepNode)) {
		p.d.add(pr.at, "%s", pr.msg)
	}
	return t
}

func (p *parser) checkRequired(spec *steps.Spec, given map[string]bool, at Pos) {
	for _, prm := range spec.Params {
		if prm.Required && !given[prm.Name] {
			p.d.add(at, "with: missing required param %q for %s (%s)", prm.Name, spec.Kind, prm.Doc)
		}
	}
}

// checkParam checks a param value against its declared type: literals are
// coerced now, expressions are checked by their static type.
func (p *parser) checkParam(prm *steps.Param, t *Tmpl, n *yaml.Node, spec *steps.Spec) {
	what := fmt.Sprintf("with: %s", prm.Name)
	if t.IsLiteral() {
		raw, err := t.Eval(nil)
		if err != nil || raw == nil {
			if n.Tag == "!!null" {
				if prm.Required {
					p.d.add(pos(n), "%s: expected %s, found nothing (null)", what, steps.Describe(prm.Type))
				}
			}
			return
		}
		cv, err := steps.Coerce(prm.Type, prm.Items, raw)
		if err != nil {
			p.d.add(pos(n), "%s: %v", what, err)
			return
		}
		if len(prm.Enum) > 0 {
			if s, _ := cv.(string); !contains(prm.Enum, s) {
				p.d.add(pos(n), "%s: expected one of %s, found %q", what, strings.Join(prm.Enum, ", "), s)
			}
		}
		return
	}
	switch t.kind {
	case tmplInterp:
		if prm.Type == steps.List || prm.Type == steps.Map {
			p.d.add(pos(n), "%s: expected %s, found text with ${{ }} inside (use exactly one ${{ }} to keep the value's type)", what, steps.Describe(prm.Type))
		}
	case tmplList:
		if prm.Type != steps.List {
			p.d.add(pos(n), "%s: expected %s, found a list", what, steps.Describe(prm.Type))
		}
	case tmplMap:
		if prm.Type != steps.Map {
			p.d.add(pos(n), "%s: expected %s, found a map", what, steps.Describe(prm.Type))
		}
	case tmplExpr:
		if t.expr == nil {
			return
		}
		if typ := t.expr.Type(); typ != nil && !compatible(typ, prm.Type) {
			p.d.add(t.expr.Pos, "%s: expected %s, found an expression of type %s", what, steps.Describe(prm.Type), typeWord(typ))
		}
	}
}

// compatible says whether an expression's static type can fill a param of
// type t. Strings are accepted for scalar params, since they are parsed
// (values from Octopus are text).
func compatible(typ reflect.Type, t steps.Type) bool {
	k := typ.Kind()
	if k == reflect.Interface {
		return true
	}
	switch t {
	case steps.String:
		return k != reflect.Slice && k != reflect.Map && k != reflect.Struct
	case steps.Int, steps.Number:
		return isNumeric(k) || k == reflect.String
	case steps.Bool:
		return k == reflect.Bool || k == reflect.String
	case steps.Duration:
		return typ == reflect.TypeOf(time.Duration(0)) || k == reflect.String
	case steps.List:
		return k == reflect.Slice || k == reflect.Array || k == reflect.String
	case steps.Map:
		return k == reflect.Map || k == reflect.String
	}
	return true
}

func typeWord(t reflect.Type) string {
	if t == reflect.TypeOf(time.Duration(0)) {
		return "duration"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "bool"
	case reflect.String:
		return "string"
	case reflect.Slice, reflect.Array:
		return "list"
	case reflect.Map, reflect.Struct:
		return "map"
	case reflect.Float32, reflect.Float64:
		return "number"
	}
	if isNumeric(t.Kind()) {
		return "int"
	}
	return t.String()
}
