package steps

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite golden files")

// docsRegistry covers what Markdown renders differently: two providers,
// read-only and mutating kinds, every param feature, both credentials.
func docsRegistry() *Registry {
	r := NewRegistry()
	scale := validSpec("demo.group.scale")
	scale.Title = "Scale a group"
	scale.Summary = "Sets a group's desired size."
	scale.Doc = "Waits for nothing.\n\nUse a gate | to wait."
	scale.Mutates = true
	scale.Credentials = AWSCredentials
	scale.Params = []Param{
		{Name: "group", Type: String, Required: true, Doc: "The group's name.", Examples: []any{"${{ idle.asg }}"}},
		{Name: "desired", Type: Int, Required: true, Doc: "How many instances."},
		{Name: "weights", Type: Map, Items: Int, Doc: "Weights by colour.", Examples: []any{map[string]any{"green": 10, "blue": 90}}},
		{Name: "mode", Type: String, Default: "rolling", Enum: []string{"rolling", "all-at-once"}, Doc: "How to replace."},
		{Name: "timeout", Type: Duration, Default: 10 * time.Minute, Doc: "How long to wait.", Examples: []any{5 * time.Minute}},
		{Name: "token", Type: String, Sensitive: true, Default: "", Doc: "An API token."},
	}
	scale.Outputs = []Output{
		{Name: "previous", Type: Int, Doc: "The desired size before."},
		{Name: "secret", Type: String, Sensitive: true, Doc: "A secret."},
	}
	r.Register(scale)

	health := validSpec("demo.group.health")
	health.Title = "Group health"
	health.Summary = "Counts healthy instances."
	health.Params = []Param{{Name: "groups", Type: List, Items: String, Required: true, Doc: "The groups."}}
	health.Outputs = []Output{{Name: "healthy", Type: Int, Doc: "Healthy instances."}}
	r.Register(health)

	note := validSpec("chat.note")
	note.Title = "Post a note"
	note.Summary = "Posts a note."
	note.Credentials = OctopusCredentials
	note.Params = nil
	note.Outputs = nil
	r.Register(note)
	return r
}

func TestMarkdownGolden(t *testing.T) {
	got := Markdown(docsRegistry())
	if again := Markdown(docsRegistry()); !bytes.Equal(got, again) {
		t.Fatal("Markdown is not deterministic")
	}
	golden := filepath.Join("testdata", "docs.golden.md")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read golden file (run go test ./steps -run MarkdownGolden -update): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Markdown differs from %s (rerun with -update and review the diff):\n%s", golden, got)
	}
}

func TestMarkdownStructure(t *testing.T) {
	md := string(Markdown(docsRegistry()))
	// Providers and kinds appear in sorted order, in the contents and the body.
	order := []string{"- [chat](#chat)", "[`chat.note`](#chatnote)", "- [demo](#demo)", "[`demo.group.health`](#demogrouphealth)", "[`demo.group.scale`](#demogroupscale)",
		"\n## chat\n", "\n### chat.note\n", "\n## demo\n", "\n### demo.group.health\n", "\n### demo.group.scale\n"}
	pos := 0
	for _, s := range order {
		i := strings.Index(md[pos:], s)
		if i < 0 {
			t.Fatalf("%q missing or out of order", s)
		}
		pos += i + len(s)
	}
	for _, want := range []string{
		"| `mode` | string |  | `rolling` | `rolling`, `all-at-once` |  | How to replace. |",
		"| `token` | string |  | *** |  | yes | An API token. |",
		"| `weights` | map of int |",
		"| `groups` | list of string | yes |",
		"Waits for nothing.\n\nUse a gate | to wait.",
		"A secret. Sensitive: never logged",
		"**Mutates.**",
		"**Read-only.**",
		"**Credentials:** AWS",
		"**Credentials:** Octopus",
		"No params.",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q", want)
		}
	}
}

// TestMarkdownExamplesBind checks that every example snippet is valid YAML
// and binds against its own spec: the docs never show a step that the
// validator would reject.
func TestMarkdownExamplesBind(t *testing.T) {
	r := docsRegistry()
	for _, s := range r.All() {
		var doc []struct {
			Uses string         `yaml:"uses"`
			With map[string]any `yaml:"with"`
		}
		if err := yaml.Unmarshal(exampleYAML(s), &doc); err != nil {
			t.Errorf("%s: example is not YAML: %v\n%s", s.Kind, err, exampleYAML(s))
			continue
		}
		if len(doc) != 1 || doc[0].Uses != s.Kind {
			t.Errorf("%s: example = %+v", s.Kind, doc)
			continue
		}
		if _, errs := s.Bind(doc[0].With); len(errs) > 0 {
			t.Errorf("%s: example does not bind: %v\n%s", s.Kind, errs, exampleYAML(s))
		}
	}
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{"aws.route53.set-weights": "awsroute53set-weights", "Host Steps": "host-steps", "a_b": "a_b"} {
		if got := slug(in); got != want {
			t.Errorf("slug(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		10 * time.Minute: "10m", time.Hour: "1h", 90 * time.Second: "1m30s", 30 * time.Second: "30s",
		time.Hour + time.Second: "1h0m1s", 2*time.Hour + 30*time.Minute: "2h30m", 0: "0s", 1500 * time.Millisecond: "1.5s",
	} {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%v) = %q, want %q", d, got, want)
		}
		if back, err := ParseDuration(shortDuration(d)); err != nil || back != d {
			t.Errorf("ParseDuration(shortDuration(%v)) = %v, %v", d, back, err)
		}
	}
}
