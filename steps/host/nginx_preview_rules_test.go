package host

import (
	"strings"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// TestNginxPreviewRules: what nginx's map would misread is refused by the
// spec's rules, so validate and preflight see it before the file changes.
func TestNginxPreviewRules(t *testing.T) {
	spec, _ := steps.Lookup("host.nginx.preview")
	ok := map[string]any{"file": "/etc/nginx/app.preview", "value": "green", "port": 8082}
	for _, v := range []string{"green", "d", "defaul", "defaults", "Default", "hostname", "includes", "v", "x~", "a b", "ünïcode", "two\nlines", "default\n"} {
		if _, errs := spec.Bind(with(ok, "value", v)); len(errs) != 0 {
			t.Errorf("value %q refused: %v", v, errs)
		}
	}
	cases := []struct {
		key  string
		val  any
		want string
	}{
		{"value", "default", `param "value": expected the exact header value`},
		{"value", "hostnames", `param "value"`},
		{"value", "include", `param "value"`},
		{"value", "volatile", `param "value"`},
		{"value", "~^gr", `param "value"`},
		{"value", "", `param "value": required when "remove" is false`},
		{"port", 0, `param "port": expected a number from 1 to 65535, found 0`},
		{"port", 70000, `param "port"`},
		{"header", "X Preview", `param "header"`},
		{"upstream", "app;", `param "upstream"`},
		{"variable", "a-b", `param "variable"`},
		{"test_command", []any{}, `param "test_command"`},
		{"timeout", "0s", `param "timeout"`},
	}
	for _, c := range cases {
		_, errs := spec.Bind(with(ok, c.key, c.val))
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), c.want) {
			t.Errorf("%s %v: got %v, want %q", c.key, c.val, errs, c.want)
		}
	}
	// Closing needs neither value nor port.
	if _, errs := spec.Bind(map[string]any{"file": "/etc/nginx/app.preview", "remove": true}); len(errs) != 0 {
		t.Errorf("remove: %v", errs)
	}
	if _, errs := spec.Bind(map[string]any{"file": "/etc/nginx/app.preview", "value": "green"}); len(errs) != 1 || !strings.Contains(errs[0].Error(), `param "port": required`) {
		t.Errorf("no port: %v", errs)
	}
}
