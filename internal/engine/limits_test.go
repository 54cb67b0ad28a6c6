package engine

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInputsFileTooLarge reads an endless device as an inputs file: it
// used to grow without limit; now it is refused after the limit.
func TestInputsFileTooLarge(t *testing.T) {
	_, err := ReadInputsFile("/dev/urandom")
	var inv *InvalidError
	if !errors.As(err, &inv) || !strings.Contains(err.Error(), "inputs file is larger than the limit of 1 MiB") {
		t.Fatalf("err = %v, want the inputs file refused for its size", err)
	}
}

func TestRunbookTooLarge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.yaml")
	big := append([]byte("version: 1\nname: big\n# "), make([]byte, MaxRunbookBytes)...)
	for i := 24; i < len(big); i++ {
		big[i] = 'x'
	}
	if err := os.WriteFile(path, big, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path, testRegistry(newWorld()))
	if err == nil || !strings.Contains(err.Error(), "runbook is larger than the limit of 8 MiB") {
		t.Fatalf("err = %v, want the runbook refused for its size", err)
	}
	if _, err := Parse("big.yaml", big, testRegistry(newWorld())); err == nil || !strings.Contains(err.Error(), "larger than the limit") {
		t.Fatalf("Parse: err = %v, want the source refused for its size", err)
	}
}

// TestInputsFileSecondDocument: a second document in an inputs file was
// ignored, so the values in it silently did not apply.
func TestInputsFileSecondDocument(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.yaml")
	if err := os.WriteFile(path, []byte("zone_id: Z1\n---\nzone_id: Z2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := ReadInputsFile(path)
	var inv *InvalidError
	if !errors.As(err, &inv) || inv.Diags[0].Pos != (Pos{2, 1}) || !strings.Contains(err.Error(), "expected one YAML document, found a second one") {
		t.Fatalf("err = %v, want a second-document error at 2:1", err)
	}
	// One document, with or without markers around it, is fine.
	if err := os.WriteFile(path, []byte("---\nzone_id: Z1\n---\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if m, err := ReadInputsFile(path); err != nil || m["zone_id"] != "Z1" {
		t.Fatalf("single document: %v %v", m, err)
	}
}
