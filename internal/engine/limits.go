package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"gopkg.in/yaml.v3"
)

// Size limits for the files a run reads. A runbook of 10,000 steps is
// about 2 MB, so 8 MiB leaves room for any real runbook; inputs are a few
// values, so 1 MiB is generous. Without a limit `--inputs /dev/urandom`
// read until memory ran out.
const (
	MaxRunbookBytes = 8 << 20
	MaxInputsBytes  = 1 << 20
)

// readLimited reads a whole file, refusing one larger than limit without
// reading more than limit+1 bytes of it (the file may be a device or a
// pipe that never ends).
func readLimited(path, what string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, invalid(path, "cannot read %s: %v", what, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, invalid(path, "cannot read %s: %v", what, err)
	}
	if int64(len(b)) > limit {
		return nil, invalid(path, "%s is larger than the limit of %s", what, byteSize(limit))
	}
	return b, nil
}

func byteSize(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// decodeOne decodes the single YAML document of src into doc. A second
// document (after `---`) is an error at its position: it would otherwise
// be ignored, and whatever it says would silently not apply.
func decodeOne(src []byte, doc *yaml.Node) (extra *Pos, err error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	if err := dec.Decode(doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	for {
		var next yaml.Node
		switch err := dec.Decode(&next); {
		case errors.Is(err, io.EOF):
			return nil, nil
		case err != nil:
			return nil, err
		}
		// A lone `---` at the end makes an empty document: harmless.
		if len(next.Content) == 1 && next.Content[0].Tag == "!!null" && next.Content[0].Value == "" {
			continue
		}
		return &Pos{next.Line, next.Column}, nil
	}
}

// secondDocument is the message for a file with more than one document.
const secondDocument = "expected one YAML document, found a second one here (remove the `---` line and what follows, or merge it into the first)"

// ReadSetFile reads a --set-file (key=value lines), refusing one larger
// than MaxInputsBytes as it does an inputs file.
func ReadSetFile(path string) ([]byte, error) {
	return readLimited(path, "inputs file", MaxInputsBytes)
}
