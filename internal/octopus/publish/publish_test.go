package publish_test

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/octopus"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus/octopustest"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus/publish"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus/templates"
	"github.com/bluegreen-deploy/bluegreen/steps"
	stepsoctopus "github.com/bluegreen-deploy/bluegreen/steps/octopus"
)

// connectionParams are the connection params steps/octopus declares; the
// generator leaves them out of the templates.
var connectionParams = stepsoctopus.ConnectionParams()

func registry(summary string) *steps.Registry {
	r := steps.NewRegistry()
	noop := func() steps.Step {
		return steps.StepFunc(func(context.Context, *steps.Call) (steps.Outputs, error) { return nil, nil })
	}
	r.Register(steps.Spec{Kind: "flow.log", Title: "Log", Summary: summary, New: noop,
		Params: []steps.Param{{Name: "message", Type: steps.String, Required: true, Doc: "What to log."}}})
	r.Register(steps.Spec{Kind: "aws.asg.scale", Title: "Scale an ASG", Summary: "Scales.", Credentials: steps.AWSCredentials, New: noop,
		Params: []steps.Param{{Name: "group", Type: steps.String, Required: true, Doc: "ASG name."}, {Name: "wait", Type: steps.Bool, Default: true, Doc: "Wait."}}})
	r.Register(steps.Spec{Kind: "octopus.targets.health", Title: "Target health", Summary: "Counts.", Credentials: steps.OctopusCredentials, New: noop,
		Params: append([]steps.Param{{Name: "role", Type: steps.String, Doc: "Role."}}, connectionParams...)})
	return r
}

func TestSync(t *testing.T) {
	srv := octopustest.New(t)
	c := srv.Connect(t)
	gen := templates.Generate(registry("Logs a message."))

	dry, err := publish.Sync(c, gen, publish.SyncOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(dry.Created) != 4 || len(srv.Templates(c.SpaceID)) != 0 {
		t.Fatalf("dry run: %+v, server has %d templates", dry, len(srv.Templates(c.SpaceID)))
	}

	first, err := publish.Sync(c, gen, publish.SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Created) != 4 || len(first.Updated)+len(first.Unchanged) != 0 {
		t.Fatalf("first sync: %+v", first)
	}
	// The server kept what the Library format says: ids of parameters,
	// FeedId-free package references, every property.
	tpl := srv.Template(c.SpaceID, "Blue-Green - Scale an ASG")
	if tpl == nil || tpl["ActionType"] != "Octopus.AwsRunScript" || tpl["Version"] != 0 {
		t.Fatalf("stored template: %v", tpl)
	}
	puts := srv.CountRequests("PUT", "/actiontemplates/")
	second, err := publish.Sync(c, templates.Generate(registry("Logs a message.")), publish.SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(second.Unchanged) != 4 || len(second.Created)+len(second.Updated) != 0 || srv.CountRequests("PUT", "/actiontemplates/") != puts {
		t.Fatalf("second sync changed something: %+v", second)
	}

	changed := templates.Generate(registry("Logs a message at info level."))
	dry, err = publish.Sync(c, changed, publish.SyncOptions{DryRun: true})
	if err != nil || strings.Join(dry.Updated, ",") != "Blue-Green - Log" {
		t.Fatalf("dry run of a change: %+v %v", dry, err)
	}
	if v := srv.Template(c.SpaceID, "Blue-Green - Log")["Version"]; v != 0 {
		t.Fatalf("dry run changed the version to %v", v)
	}
	third, err := publish.Sync(c, changed, publish.SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(third.Updated, ",") != "Blue-Green - Log" || len(third.Unchanged) != 3 {
		t.Fatalf("changed spec: %+v", third)
	}
	for _, tm := range srv.Templates(c.SpaceID) {
		want := 0
		if tm["Name"] == "Blue-Green - Log" {
			want = 1
		}
		if tm["Version"] != want {
			t.Errorf("%s: version %v, want %d", tm["Name"], tm["Version"], want)
		}
	}
}

func TestSyncUpdatesUsages(t *testing.T) {
	srv := octopustest.New(t)
	c := srv.Connect(t)
	if _, err := publish.Sync(c, templates.Generate(registry("v0")), publish.SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	id := srv.Template(c.SpaceID, "Blue-Green - Log")["Id"].(string)
	srv.AddUsage(c.SpaceID, id, octopustest.Usage{ProjectID: "Projects-1", ProcessID: "deploymentprocess-Projects-1", ActionID: "a1", ActionName: "Log", Version: 0})
	srv.AddUsage(c.SpaceID, id, octopustest.Usage{ProjectID: "Projects-2", ProcessID: "RunbookProcess-1", ProcessType: "Runbook", ActionID: "a2", ActionName: "Log", Version: 0, ManualMerge: true})

	dry, err := publish.Sync(c, templates.Generate(registry("v1")), publish.SyncOptions{DryRun: true, UpdateUsages: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(dry.Usages) != 0 {
		// In a dry run the template is not updated, so its usages are current.
		t.Errorf("dry run reported usages %+v", dry.Usages)
	}
	res, err := publish.Sync(c, templates.Generate(registry("v1")), publish.SyncOptions{UpdateUsages: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Usages) != 2 {
		t.Fatalf("usages: %+v", res.Usages)
	}
	att := res.NeedsAttention()
	if len(att) != 1 || att[0].ActionID != "a2" || att[0].Outcome != "ManualMergeRequired" || len(att[0].Reasons) == 0 {
		t.Errorf("needs attention: %+v", att)
	}
	if v := srv.UsageVersions(c.SpaceID, id); v["a1"] != 1 || v["a2"] != 0 {
		t.Errorf("usage versions after update: %v", v)
	}
	// Nothing is behind any more except the manual merge.
	again, err := publish.Sync(c, templates.Generate(registry("v1")), publish.SyncOptions{DryRun: true, UpdateUsages: true})
	if err != nil || len(again.Usages) != 1 || again.Usages[0].ActionID != "a2" {
		t.Errorf("dry run after update: %+v %v", again.Usages, err)
	}
}

func TestSyncSurfacesServerFailures(t *testing.T) {
	srv := octopustest.New(t)
	c := srv.Connect(t)
	srv.Inject(octopustest.Fault{Method: "POST", Path: "/actiontemplates$", Status: 503, Times: 1})
	_, err := publish.Sync(c, templates.Generate(registry("x")), publish.SyncOptions{})
	if err == nil || octopus.StatusCode(err) != 503 || !strings.Contains(err.Error(), "create step template") {
		t.Fatalf("got %v", err)
	}
}

func TestPushPackageRoundTrip(t *testing.T) {
	srv := octopustest.New(t)
	c := srv.Connect(t)
	dir := t.TempDir()
	bins := map[string]string{}
	for _, arch := range publish.PackageArchs {
		p := filepath.Join(dir, arch)
		if err := os.WriteFile(p, []byte("#!/bin/sh\necho "+arch+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		bins[arch] = p
	}
	file, err := publish.BuildPackage(context.Background(), publish.BuildOptions{Version: "1.2.3", Binaries: bins, OutDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(file) != "bluegreen.1.2.3.tar.gz" {
		t.Errorf("file %s", file)
	}
	res, err := publish.PushPackage(c, file, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.PackageID != "bluegreen" || res.Version != "1.2.3" || res.FeedID != octopustest.BuiltInFeedID || !res.Created {
		t.Errorf("push result %+v", res)
	}
	pkgs := srv.Packages(c.SpaceID)
	if len(pkgs) != 1 {
		t.Fatalf("feed holds %d packages", len(pkgs))
	}
	got := untar(t, pkgs[0].Data)
	for _, arch := range publish.PackageArchs {
		e, ok := got["linux-"+arch+"/bluegreen"]
		if !ok || e.mode != 0o755 || e.body != "#!/bin/sh\necho "+arch+"\n" {
			t.Errorf("linux-%s/bluegreen in the feed: %+v", arch, e)
		}
	}

	if _, err := publish.PushPackage(c, file, false); !errors.Is(err, publish.ErrPackageExists) || !strings.Contains(err.Error(), "--overwrite") {
		t.Errorf("second push: %v", err)
	}
	if res, err := publish.PushPackage(c, file, true); err != nil || !res.Created {
		t.Errorf("overwrite: %+v %v", res, err)
	}
}

func TestBuildPackageCrossCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles two binaries")
	}
	mod := t.TempDir()
	must(t, os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module hello\n\ngo 1.22\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(mod, "main.go"), []byte("package main\n\nfunc main() { println(\"hi\") }\n"), 0o644))
	file, err := publish.BuildPackage(context.Background(), publish.BuildOptions{Version: "0.1.0-rc.1", Main: ".", Dir: mod, OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(file)
	must(t, err)
	got := untar(t, b)
	// ELF machine field (offset 18): 0x3e is x86-64, 0xb7 is AArch64.
	for arch, machine := range map[string]byte{"amd64": 0x3e, "arm64": 0xb7} {
		e := got["linux-"+arch+"/bluegreen"]
		if len(e.body) < 20 || e.body[:4] != "\x7fELF" || e.body[18] != machine {
			t.Errorf("linux-%s/bluegreen is not a linux/%s ELF binary", arch, arch)
		}
	}
	if _, err := publish.BuildPackage(context.Background(), publish.BuildOptions{Version: "v1"}); err == nil {
		t.Error("a version that is not SemVer was accepted")
	}
}

type tarEntry struct {
	mode int64
	body string
}

func untar(t *testing.T, data []byte) map[string]tarEntry {
	t.Helper()
	gz, err := gzip.NewReader(strings.NewReader(string(data)))
	must(t, err)
	tr := tar.NewReader(gz)
	out := map[string]tarEntry{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		must(t, err)
		b, err := io.ReadAll(tr)
		must(t, err)
		out[h.Name] = tarEntry{mode: h.Mode, body: string(b)}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
