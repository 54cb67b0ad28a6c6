package main

import (
	"debug/elf"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"testing"
)

// TestMakeBuildIsStatic checks that `make build`, as the README tells
// users to build, turns cgo off: a binary linked against the build
// machine's libc fails on Alpine and old-glibc workers. It asks make for
// the commands it would run (make -n, so nothing is compiled here) even
// when the caller's environment turns cgo on.
func TestMakeBuildIsStatic(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatal("make is needed to check the build")
	}
	_, file, _, _ := runtime.Caller(0)
	cmd := exec.Command("make", "-n", "build", "CGO_ENABLED=1")
	cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make -n build: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`(?m)^CGO_ENABLED=0 \S*go build .*\./cmd/bluegreen$`).Match(out) {
		t.Errorf("make build does not build with CGO_ENABLED=0:\n%s", out)
	}
}

// assertStatic fails when the ELF binary at path is dynamically linked: it
// has a program interpreter (the dynamic loader) or needs shared libraries.
// TestInterrupt uses it on the binary it builds with CGO_ENABLED=0, the
// setting make build uses.
func assertStatic(t *testing.T, path string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s is dynamically linked (it has a program interpreter)", path)
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
		t.Errorf("%s needs shared libraries %v (%v)", path, libs, err)
	}
}
