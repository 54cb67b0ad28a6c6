package engine

import (
	"context"
	"strings"
	"testing"
)

// Anchors in x- keys and merge keys let a runbook share params between
// steps; explicit keys win over merged ones.
func TestMergeKeysAndExtensionAnchors(t *testing.T) {
	h := newHarness(t)
	src := `
version: 1
name: merged
x-scale: &scale {group: web-green, desired: 2}
colours: {blue: {asg: web-blue}, green: {asg: web-green}}
steps:
  - uses: test.scale
    with:
      <<: *scale
  - uses: test.scale
    with:
      <<: *scale
      desired: 5
`
	rb := h.load(src)
	if _, err := h.exec("").Run(context.Background(), rb, nil); err != nil {
		t.Fatal(err)
	}
	if got := h.w.size("web-green"); got != 5 {
		t.Fatalf("size = %d, want 5 (the explicit key wins over the merged one)", got)
	}
}

func TestMergeKeyErrors(t *testing.T) {
	cases := map[string]string{
		"scalar": `
version: 1
name: m
x-a: &a hello
colours: {blue: {}, green: {}}
steps:
  - uses: test.scale
    with: {<<: *a, group: g, desired: 1}
`,
		"cycle": `
version: 1
name: m
colours: {blue: {}, green: {}}
steps:
  - uses: test.scale
    with: &w {group: g, desired: 1, nested: {<<: *w}}
`,
		"unknown merged key": `
version: 1
name: m
x-a: &a {group: g, desired: 1, colour: red}
colours: {blue: {}, green: {}}
steps:
  - uses: test.scale
    with: {<<: *a}
`,
	}
	want := map[string]string{
		"scalar":             "<<: expected an alias of a mapping",
		"cycle":              "would never end",
		"unknown merged key": `unknown param "colour"`,
	}
	for name, src := range cases {
		_, err := Parse("m.yaml", []byte(src), testRegistry(newWorld()))
		if err == nil || !strings.Contains(err.Error(), want[name]) {
			t.Errorf("%s: err = %v, want %q", name, err, want[name])
		}
	}
}
