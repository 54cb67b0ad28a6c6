package engine

import (
	"fmt"
	"sort"
	"strings"
)

// Pos is a 1-based line and column in a runbook file.
type Pos struct {
	Line int `json:"line"`
	Col  int `json:"col"`
}

// Diagnostic is one problem found in a runbook, pointing at the file, line
// and column where it is, with what was expected and what was found.
type Diagnostic struct {
	File    string `json:"file"`
	Pos     Pos    `json:"pos"`
	Message string `json:"message"`
	// Snippet is the source line and a caret under the column.
	Snippet string `json:"snippet,omitempty"`
}

func (d *Diagnostic) Error() string {
	// A problem that is not at a place in the file (an input given on the
	// command line, a phase) names the file alone: a made-up 0:0 or 1:1
	// would send the reader to a line that has nothing to do with it.
	if d.Pos.Line < 1 {
		return fmt.Sprintf("%s: %s", d.File, d.Message)
	}
	return fmt.Sprintf("%s:%d:%d: %s", d.File, d.Pos.Line, d.Pos.Col, d.Message)
}

// InvalidError is returned when a runbook, its inputs or the command line
// are invalid. It carries every problem found, sorted by position; the CLI
// maps it to exit code 2. Nothing has been changed when it is returned.
type InvalidError struct {
	Diags []*Diagnostic
}

func (e *InvalidError) Error() string {
	if len(e.Diags) == 1 {
		return e.Diags[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d problems:", len(e.Diags))
	for _, d := range e.Diags {
		b.WriteString("\n")
		b.WriteString(d.Error())
	}
	return b.String()
}

// Format renders every diagnostic with its snippet, as `bluegreen validate`
// prints them.
func (e *InvalidError) Format() string {
	var b strings.Builder
	for _, d := range e.Diags {
		b.WriteString(d.Error())
		b.WriteString("\n")
		if d.Snippet != "" {
			b.WriteString(d.Snippet)
			b.WriteString("\n")
		}
	}
	return b.String()
}

// invalid builds an InvalidError without a position, for problems with the
// command line (inputs, phases) rather than the file.
func invalid(file, format string, args ...any) *InvalidError {
	return &InvalidError{Diags: []*Diagnostic{{File: file, Message: fmt.Sprintf(format, args...)}}}
}

// diags collects diagnostics for one file.
type diags struct {
	file  string
	lines []string
	list  []*Diagnostic
	// progs holds the programs compiled in this parse; see compile.go.
	progs progCache
}

func newDiags(file string, src []byte) *diags {
	// YAML counts \r\n, a lone \r and \n each as one line break; the
	// snippet and column mapping must count lines the same way.
	text := strings.ReplaceAll(strings.ReplaceAll(string(src), "\r\n", "\n"), "\r", "\n")
	return &diags{file: file, lines: strings.Split(text, "\n")}
}

func (d *diags) add(p Pos, format string, args ...any) {
	d.list = append(d.list, &Diagnostic{File: d.file, Pos: p, Message: fmt.Sprintf(format, args...), Snippet: d.snippet(p)})
}

func (d *diags) snippet(p Pos) string {
	if p.Line < 1 || p.Line > len(d.lines) {
		return ""
	}
	line := strings.ReplaceAll(d.lines[p.Line-1], "\t", " ")
	col := p.Col
	if col < 1 {
		col = 1
	}
	// Count the caret's column in runes so multi-byte text lines up.
	r := []rune(line)
	if col > len(r)+1 {
		col = len(r) + 1
	}
	return fmt.Sprintf("%5d | %s\n      | %s^", p.Line, line, strings.Repeat(" ", col-1))
}

func (d *diags) err() error {
	if len(d.list) == 0 {
		return nil
	}
	sort.SliceStable(d.list, func(i, j int) bool {
		a, b := d.list[i].Pos, d.list[j].Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return &InvalidError{Diags: d.list}
}
