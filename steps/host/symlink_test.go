package host

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// releaseDirs makes root/blue, root/green and root/current -> blue.
func releaseDirs(t *testing.T) (root string, colours map[string]any) {
	t.Helper()
	root = t.TempDir()
	for _, c := range []string{"blue", "green"} {
		if err := os.Mkdir(filepath.Join(root, c), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(root, "blue"), filepath.Join(root, "current")); err != nil {
		t.Fatal(err)
	}
	return root, map[string]any{"blue": filepath.Join(root, "blue"), "green": filepath.Join(root, "green")}
}

func TestSymlinkRead(t *testing.T) {
	root, colours := releaseDirs(t)
	if err := os.Symlink("green", filepath.Join(root, "relative")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "plain"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		link       string
		colours    map[string]any
		wantTarget string
		wantColour string
		wantErr    string
	}{
		{name: "absolute", link: "current", colours: colours, wantTarget: filepath.Join(root, "blue"), wantColour: "blue"},
		{name: "relative target", link: "relative", colours: colours, wantTarget: "green", wantColour: "green"},
		{name: "no colours", link: "current", wantTarget: filepath.Join(root, "blue")},
		{name: "colours given through another path", link: "current",
			colours: map[string]any{"blue": root + "/./blue/", "green": root + "/green"}, wantTarget: filepath.Join(root, "blue"), wantColour: "blue"},
		{name: "missing", link: "nope", wantErr: "no such file"},
		{name: "not a link", link: "plain", wantErr: "is a regular file, not a symlink"},
		{name: "directory", link: "blue", wantErr: "is a directory, not a symlink"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := map[string]any{"link": filepath.Join(root, tt.link)}
			if tt.colours != nil {
				raw["colours"] = tt.colours
			}
			out, err := run(t, "host.symlink.read", raw, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out["target"] != tt.wantTarget || out["colour"] != tt.wantColour {
				t.Errorf("outputs = %v, want target %q colour %q", out, tt.wantTarget, tt.wantColour)
			}
		})
	}
}

func TestSymlinkSwitch(t *testing.T) {
	root, colours := releaseDirs(t)
	link := filepath.Join(root, "current")
	green := filepath.Join(root, "green")
	l := &undoLog{}
	out, err := run(t, "host.symlink.switch", map[string]any{"link": link, "target": green, "colours": colours}, l)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.Readlink(link); got != green {
		t.Fatalf("link points at %q, want %q", got, green)
	}
	if out["previous_colour"] != "blue" || out["colour"] != "green" || out["changed"] != true {
		t.Errorf("outputs = %v", out)
	}
	if len(l.undos) != 1 || l.undos[0].Params["target"] != filepath.Join(root, "blue") {
		t.Fatalf("undos = %+v", l.undos)
	}
	assertNoLeftovers(t, root)

	// The undo, run twice (a rollback retried after a crash), restores blue.
	for i := 0; i < 2; i++ {
		ul := &undoLog{}
		if _, err := runCtx(t.Context(), t, "host.symlink.switch", l.undos[0].Params, ul, true); err != nil {
			t.Fatalf("undo %d: %v", i, err)
		}
		if len(ul.undos) != 0 {
			t.Errorf("an undo journaled %v", ul.undos)
		}
	}
	if got, _ := os.Readlink(link); got != filepath.Join(root, "blue") {
		t.Fatalf("after undo the link points at %q", got)
	}

	// Switching to where it already points changes nothing.
	l = &undoLog{}
	out, err = run(t, "host.symlink.switch", map[string]any{"link": link, "target": filepath.Join(root, "blue")}, l)
	if err != nil || out["changed"] != false || len(l.undos) != 0 {
		t.Errorf("no-op switch: out %v, err %v, undos %v", out, err, l.undos)
	}
}

func TestSymlinkSwitchRefuses(t *testing.T) {
	root, _ := releaseDirs(t)
	link := filepath.Join(root, "current")
	tests := []struct {
		name    string
		raw     map[string]any
		journal error
		wantErr string
	}{
		{name: "missing target", raw: map[string]any{"link": link, "target": filepath.Join(root, "red")}, wantErr: "is not an existing directory"},
		{name: "journal fails", raw: map[string]any{"link": link, "target": filepath.Join(root, "green")}, journal: errors.New("journal is read-only"), wantErr: "journal is read-only"},
		{name: "not a link", raw: map[string]any{"link": filepath.Join(root, "blue"), "target": filepath.Join(root, "green")}, wantErr: "not a symlink"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := run(t, "host.symlink.switch", tt.raw, &undoLog{err: tt.journal})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want %q", err, tt.wantErr)
			}
			if got, _ := os.Readlink(link); got != filepath.Join(root, "blue") {
				t.Errorf("link changed to %q although the step failed", got)
			}
		})
	}
}

// assertNoLeftovers checks that no temporary link or file was left behind.
func assertNoLeftovers(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".bluegreen-") {
			t.Errorf("leftover temporary %s", e.Name())
		}
	}
}
