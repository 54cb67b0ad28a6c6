package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/browsertest"
	"github.com/bluegreen-deploy/bluegreen/internal/state"
)

// symlinkRunbook swaps a symlink between two folders: a real change whose
// traffic (the folder served) the report draws, with no network.
const symlinkRunbook = `version: 1
name: cli-link
inputs:
  token: {type: string, sensitive: true, required: false}
colours:
  blue: {dir: "%DIR%/blue"}
  green: {dir: "%DIR%/green"}
detect:
  uses: host.symlink.read
  with: {link: "%DIR%/current"}
  live: "target == colours.green.dir ? 'green' : 'blue'"
steps:
  - id: switch
    uses: host.symlink.switch
    with: {link: "%DIR%/current", target: "${{ idle.dir }}"}
  - uses: flow.log
    with: {message: "switched"}
`

func symlinkWorld(t *testing.T) (dir, rb, st string) {
	dir = t.TempDir()
	for _, c := range []string{"blue", "green"} {
		if err := os.Mkdir(filepath.Join(dir, c), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(dir, "blue"), filepath.Join(dir, "current")); err != nil {
		t.Fatal(err)
	}
	return dir, writeRunbook(t, dir, "link.yaml", symlinkRunbook), filepath.Join(dir, "state")
}

const reportSecret = "cli-s3ntinel-7c1e"

func TestReportAcrossRunAndRollback(t *testing.T) {
	dir, rb, st := symlinkWorld(t)
	bg(t, "run", rb, "--state", st, "--set", "token="+reportSecret).wantCode(t, ExitOK)
	fs, _ := state.NewFileStore(st)
	key := appKey(t, rb, st)
	rec, err := fs.Load(t.Context(), key)
	if err != nil || rec == nil || rec.Run == nil {
		t.Fatalf("record: %v", err)
	}
	first := rec.Run.ID
	runs, _ := fs.RunsDir(key)
	written := filepath.Join(runs, first+".html")
	if !exists(t, written) {
		t.Fatalf("the run wrote no report at %s", written)
	}
	// A later process rolls the same run back: its events join the run's
	// timeline and the report is written again.
	bg(t, "rollback", rb, "--state", st, "--set", "token="+reportSecret).wantCode(t, ExitOK)
	if target, _ := os.Readlink(filepath.Join(dir, "current")); target != filepath.Join(dir, "blue") {
		t.Fatalf("link points at %s after the rollback", target)
	}
	out := filepath.Join(dir, "again.html")
	bg(t, "report", rb, "--state", st, "--out", out).wantCode(t, ExitOK)
	fromFile, _ := os.ReadFile(written)
	again, _ := os.ReadFile(out)
	if string(fromFile) != string(again) {
		t.Error("report --out differs from the report the rollback wrote")
	}
	// A second run: the first stays reachable with --run.
	bg(t, "run", rb, "--state", st).wantCode(t, ExitOK)
	r := bg(t, "report", rb, "--state", st, "--run", first)
	r.wantCode(t, ExitOK)
	if r.stdout != string(again) {
		t.Error("report --run FIRST on stdout differs from the first run's report")
	}
	if strings.Contains(r.stdout, reportSecret) {
		t.Fatal("the report holds the sensitive input's value")
	}
	page := browsertest.Open(t, "file://"+out)
	if errs := page.ConsoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %q", errs)
	}
	var got []struct {
		Colour string    `json:"colour"`
		Shares []float64 `json:"shares"`
		Source []string  `json:"source"`
	}
	page.Eval(t, `Array.from(document.querySelectorAll('#traffic g.series')).map(g => ({colour: g.dataset.colour,
		shares: Array.from(g.querySelectorAll('circle.point')).map(c => Number(c.dataset.share)),
		source: Array.from(g.querySelectorAll('circle.point')).map(c => c.dataset.source)}))`, &got)
	want := map[string]string{"blue": "100 0 100", "green": "0 100 0"}
	if len(got) != 2 {
		t.Fatalf("series %+v, want blue and green", got)
	}
	for _, s := range got {
		if fmtFloats(s.Shares) != want[s.Colour] || strings.Join(s.Source, " ") != "detect step undo" {
			t.Errorf("series %s: shares %v from %v, want %s from detect, step, undo", s.Colour, s.Shares, s.Source, want[s.Colour])
		}
	}
	var bands int
	page.Eval(t, `document.querySelectorAll('rect.rollback').length`, &bands)
	if bands != 1 {
		t.Errorf("%d rollback bands, want 1", bands)
	}
}

func TestReportErrors(t *testing.T) {
	_, rb, st := symlinkWorld(t)
	r := bg(t, "report", rb, "--state", st)
	r.wantCode(t, ExitInvalid)
	if !strings.Contains(r.stderr, `no run recorded for "cli-link-`) {
		t.Errorf("stderr %q", r.stderr)
	}
	bg(t, "run", rb, "--state", st).wantCode(t, ExitOK)
	r = bg(t, "report", rb, "--state", st, "--run", "20200101T000000Z-dead")
	r.wantCode(t, ExitInvalid)
	if !strings.Contains(r.stderr, `no timeline stored for run "20200101T000000Z-dead"`) {
		t.Errorf("stderr %q", r.stderr)
	}
}

func fmtFloats(f []float64) string {
	s := make([]string, len(f))
	for i, v := range f {
		s[i] = strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strings.Join(s, " ")
}

// TestOctopusAttachesHTMLReport: inside Octopus the HTML report is attached
// to the deployment as an artifact, with the secret masked.
func TestOctopusAttachesHTMLReport(t *testing.T) {
	dir := t.TempDir()
	rb := filepath.Join(dir, "octo.yaml")
	if err := os.WriteFile(rb, []byte(octoRunbook), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("BLUEGREEN_REPORT_DIR", dir)
	var out, errb bytes.Buffer
	code := Main([]string{"run", rb, "--octopus-output", "--state", filepath.Join(dir, "st"), "--set", "token=" + reportSecret}, nil, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
	}
	var html []string
	for _, m := range mustDecode(t, &out) {
		if m.Name == "createArtifact" && strings.HasSuffix(m.Attrs["path"], ".html") {
			html = append(html, m.Attrs["path"])
			b, err := os.ReadFile(m.Attrs["path"])
			if err != nil {
				t.Fatal(err)
			}
			if strconv.Itoa(len(b)) != m.Attrs["length"] || !bytes.Contains(b, []byte("<svg")) || bytes.Contains(b, []byte(reportSecret)) {
				t.Errorf("artifact %s: length %s for %d bytes; has an svg: %v; holds the secret: %v", m.Attrs["path"], m.Attrs["length"], len(b), bytes.Contains(b, []byte("<svg")), bytes.Contains(b, []byte(reportSecret)))
			}
		}
	}
	if len(html) != 1 {
		t.Errorf("HTML report artifacts %q, want one", html)
	}
}
