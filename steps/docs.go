package steps

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Markdown renders the step reference (docs/steps.md) from a registry: a
// table of contents grouped by provider (the first segment of a kind), then
// one section per kind with its summary, doc, params, outputs, whether it
// mutates, and an example built from the params' examples. The output
// depends only on the specs, so regenerating it is a no-op when nothing
// changed and a test can compare it with the committed file.
func Markdown(r *Registry) []byte {
	all := r.All()
	var b bytes.Buffer
	b.WriteString("# Step reference\n\n")
	b.WriteString("<!-- Generated from the step registry by `make generate`. Do not edit: change the step's Spec instead. -->\n\n")
	fmt.Fprintf(&b, "bluegreen has %d step kinds. A runbook step names one with `uses:` and passes its params under `with:`. ", len(all))
	b.WriteString("Every param value may be an expression (`\"${{ idle.asg }}\"`); text is converted to the param's type, ")
	b.WriteString("so values from `--set`, `--param` and Octopus variables work for every type. ")
	b.WriteString("Outputs are visible to later steps as `steps.<id>.<output>` and, inside a gate, at top level.\n\n")
	b.WriteString("A step that **mutates** journals its undo before it changes anything, so a failed run ")
	b.WriteString("(or `bluegreen rollback` after a crash) restores what it changed. A **read-only** step ")
	b.WriteString("can be a gate's step: the engine re-runs it until the gate's `until` expression holds.\n\n")

	b.WriteString("## Contents\n\n")
	for _, group := range byProvider(all) {
		fmt.Fprintf(&b, "- [%s](#%s)\n", group.name, slug(group.name))
		for _, s := range group.specs {
			fmt.Fprintf(&b, "  - [`%s`](#%s) — %s\n", s.Kind, slug(s.Kind), s.Title)
		}
	}

	for _, group := range byProvider(all) {
		fmt.Fprintf(&b, "\n## %s\n", group.name)
		for _, s := range group.specs {
			writeSpec(&b, s)
		}
	}
	return b.Bytes()
}

type providerGroup struct {
	name  string
	specs []*Spec
}

// byProvider groups sorted specs by the first segment of their kind; the
// groups come out sorted because the specs are.
func byProvider(all []*Spec) []providerGroup {
	var out []providerGroup
	for _, s := range all {
		p, _, _ := strings.Cut(s.Kind, ".")
		if len(out) == 0 || out[len(out)-1].name != p {
			out = append(out, providerGroup{name: p})
		}
		out[len(out)-1].specs = append(out[len(out)-1].specs, s)
	}
	return out
}

func writeSpec(b *bytes.Buffer, s *Spec) {
	fmt.Fprintf(b, "\n### %s\n\n", s.Kind)
	fmt.Fprintf(b, "**%s.** %s\n\n", strings.TrimSuffix(s.Title, "."), s.Summary)
	if doc := strings.TrimSpace(s.Doc); doc != "" {
		b.WriteString(doc + "\n\n")
	}

	if len(s.Params) == 0 {
		b.WriteString("No params.\n\n")
	} else {
		b.WriteString("| Param | Type | Required | Default | One of | Sensitive | Description |\n")
		b.WriteString("|---|---|---|---|---|---|---|\n")
		for _, p := range s.Params {
			fmt.Fprintf(b, "| `%s` | %s | %s | %s | %s | %s | %s |\n",
				p.Name, typeName(p.Type, p.Items), yesNo(p.Required), defaultCell(p),
				enumCell(p.Enum), yesNo(p.Sensitive), cell(p.Doc))
		}
		b.WriteString("\n")
	}

	if len(s.Outputs) > 0 {
		b.WriteString("| Output | Type | Description |\n")
		b.WriteString("|---|---|---|\n")
		for _, o := range s.Outputs {
			doc := o.Doc
			if o.Sensitive {
				doc = strings.TrimSpace(doc + " Sensitive: never logged, journaled or exported.")
			}
			fmt.Fprintf(b, "| `%s` | %s | %s |\n", o.Name, typeName(o.Type, ""), cell(doc))
		}
		b.WriteString("\n")
	}

	if s.Mutates {
		b.WriteString("**Mutates.** Before changing anything it journals the undo that restores the previous state; a rollback runs it.\n\n")
	} else {
		b.WriteString("**Read-only.** It changes nothing a rollback must restore.\n\n")
	}
	if s.Traffic != "" {
		fmt.Fprintf(b, "**Reports traffic** through its `%s` output: run reports draw each colour's share from it.\n\n", s.Traffic)
	}

	switch s.Credentials {
	case AWSCredentials:
		b.WriteString("**Credentials:** AWS, from the SDK's default chain (`AWS_REGION`, `AWS_PROFILE`, `AWS_ENDPOINT_URL`, instance role); in Octopus, the template's AWS account.\n\n")
	case OctopusCredentials:
		b.WriteString("**Credentials:** Octopus, from `OCTOPUS_URL`, `OCTOPUS_API_KEY` and `OCTOPUS_SPACE`.\n\n")
	}

	b.WriteString("```yaml\n")
	b.Write(exampleYAML(s))
	b.WriteString("```\n")
}

// exampleYAML builds a runbook step using the kind: every required param
// and every param with an example, with its first example (or, for a
// required param without one, a placeholder naming the expected type).
func exampleYAML(s *Spec) []byte {
	with := &yaml.Node{Kind: yaml.MappingNode}
	for _, p := range s.Params {
		var v any
		switch {
		case len(p.Examples) > 0:
			v = p.Examples[0]
		case p.Required:
			v = placeholder(p)
		default:
			continue
		}
		with.Content = append(with.Content, scalar(p.Name), valueNode(v))
	}
	step := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{scalar("uses"), scalar(s.Kind)}}
	if len(with.Content) > 0 {
		step.Content = append(step.Content, scalar("with"), with)
	}
	doc := &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{step}}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		// Examples are plain values checked at registration; a failure
		// here is a bug, and the docs should show it rather than hide it.
		return []byte("# example could not be rendered: " + err.Error() + "\n")
	}
	enc.Close()
	return b.Bytes()
}

func scalar(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

// valueNode renders an example value; lists and maps in flow style, as
// runbooks usually write them, and durations as text ("30s").
func valueNode(v any) *yaml.Node {
	if d, ok := v.(time.Duration); ok {
		v = shortDuration(d)
	}
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		return scalar(fmt.Sprint(v))
	}
	setFlow(&n)
	quoteExpressions(&n)
	return &n
}

// quoteExpressions double-quotes strings holding "${{", as runbooks write
// them: unquoted they are valid YAML too, but a reader copying the example
// into a flow map or after a colon would trip over the braces.
func quoteExpressions(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" && strings.Contains(n.Value, "${{") {
		n.Style = yaml.DoubleQuotedStyle
	}
	for _, c := range n.Content {
		quoteExpressions(c)
	}
}

// shortDuration writes a duration as a person would: "10m" rather than
// Go's "10m0s", "1h" rather than "1h0m0s".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// placeholder stands in for a required param that has no example: a value
// of the right type that a reader cannot mistake for a real one.
func placeholder(p Param) any {
	switch p.Type {
	case Int:
		return 1
	case Number:
		return 1.5
	case Bool:
		return true
	case Duration:
		return "30s"
	case List:
		return []any{"<" + p.Name + ">"}
	case Map:
		return map[string]any{"<key>": "<value>"}
	default:
		return "<" + p.Name + ">"
	}
}

func typeName(t, items Type) string {
	if (t == List || t == Map) && items != "" && items != Any {
		return fmt.Sprintf("%s of %s", t, items)
	}
	return string(t)
}

func defaultCell(p Param) string {
	if p.Default == nil {
		return ""
	}
	if p.Sensitive {
		return Redaction
	}
	s := FormatValue(p.Default)
	if d, ok := p.Default.(time.Duration); ok {
		s = shortDuration(d)
	}
	if s == "" {
		return `""`
	}
	return "`" + cell(s) + "`"
}

func enumCell(enum []string) string {
	out := make([]string, len(enum))
	for i, e := range enum {
		out[i] = "`" + cell(e) + "`"
	}
	return strings.Join(out, ", ")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return ""
}

// cell makes text safe inside a Markdown table cell: pipes escaped,
// paragraphs joined with <br>.
func cell(s string) string {
	s = strings.TrimSpace(s)
	s = strings.ReplaceAll(s, "|", `\|`)
	s = strings.ReplaceAll(s, "\n\n", "<br><br>")
	return strings.ReplaceAll(s, "\n", " ")
}

// slug is the anchor GitHub gives a heading: lower case, punctuation other
// than '-' and '_' dropped, spaces turned into '-'.
func slug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}
