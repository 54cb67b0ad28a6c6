package engine

// YAML positions: where a syntax error is, and where an offset in a
// scalar's value lies in the file, so that every diagnostic points at the
// text that caused it.

import (
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

var yamlLineRe = regexp.MustCompile(`line (\d+)`)

// yamlErrPos is where a YAML syntax error is: yaml.v3 only names a line.
func yamlErrPos(err error) Pos {
	if m := yamlLineRe.FindStringSubmatch(err.Error()); m != nil {
		l, _ := strconv.Atoi(m[1])
		// yaml.v3 reports a parser error (as opposed to a scanner error)
		// with a zero-based line: the line before the one meant.
		if isYAMLParserError(err.Error()) {
			l++
		}
		return Pos{l, 1}
	}
	return Pos{1, 1}
}

// yamlParserProblems are the problems yaml.v3's parser (not its scanner)
// reports; see isYAMLParserError.
var yamlParserProblems = []string{
	"did not find expected ',' or ']'", "did not find expected ',' or '}'",
	"did not find expected '-' indicator", "did not find expected <document start>",
	"did not find expected <stream-start>", "did not find expected key",
	"did not find expected node content", "found duplicate %TAG directive",
	"found duplicate %YAML directive", "found incompatible YAML document",
	"found undefined tag handle",
}

func isYAMLParserError(msg string) bool {
	for _, p := range yamlParserProblems {
		if strings.HasSuffix(msg, p) {
			return true
		}
	}
	return false
}

func yamlErrMsg(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	s = regexp.MustCompile(`^line \d+: `).ReplaceAllString(s, "")
	return s
}

func pos(n *yaml.Node) Pos { return Pos{n.Line, n.Column} }

// valuePos maps a rune offset in a scalar's value to its line and column
// in the file, so that an expression error points at the offending token
// however the scalar is written: plain or quoted, with escapes (`\"` is two
// characters in the file but one in the value), over several lines, or as
// a | or > block whose indentation is not part of the value.
func (p *parser) valuePos(n *yaml.Node) func(off int) Pos {
	return func(off int) Pos { return locate(p.d.lines, n, off) }
}

func locate(lines []string, n *yaml.Node, off int) Pos {
	raw := func(l int) []rune {
		if l < 1 || l > len(lines) {
			return nil
		}
		return []rune(lines[l-1])
	}
	dq := n.Style&yaml.DoubleQuotedStyle != 0
	sq := n.Style&yaml.SingleQuotedStyle != 0
	line, col, indent := n.Line, n.Column, -1
	switch {
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		// The text starts on the line after the | or > indicator, at the
		// indentation of its first non-blank line.
		line++
		indent = 0
		for l := line; l <= len(lines); l++ {
			if r := raw(l); strings.TrimSpace(string(r)) != "" {
				indent = leadingSpace(r, -1)
				break
			}
		}
		col = 1 + leadingSpace(raw(line), indent)
	case dq || sq:
		col++
	}
	r := raw(line)
	val := []rune(n.Value)
	for i := 0; i < off && i < len(val); {
		if col-1 >= len(r) {
			// The raw line has ended: the value goes on at the next line's
			// text, and the line break is a newline or a space in it.
			if line >= len(lines) {
				break
			}
			line++
			r = raw(line)
			col = 1 + leadingSpace(r, indent)
			if val[i] == '\n' || val[i] == ' ' {
				i++
			}
			continue
		}
		c := r[col-1]
		switch {
		case dq && c == '\\':
			if col >= len(r) {
				// An escaped line break joins the lines without a space.
				col++
				continue
			}
			col += escapeLen(r[col])
			i++
		case sq && c == '\'':
			col += 2
			i++
		case c != val[i] && (c == ' ' || c == '\t'):
			// Blanks before a folded line break are not in the value.
			col++
		default:
			col++
			i++
		}
	}
	return Pos{line, col}
}

// leadingSpace counts a line's leading blanks, at most max (no limit when
// max is negative).
func leadingSpace(r []rune, max int) int {
	n := 0
	for n < len(r) && (r[n] == ' ' || r[n] == '\t') && (max < 0 || n < max) {
		n++
	}
	return n
}

// escapeLen is the length in the file of a double-quoted escape whose
// letter (after the backslash) is c.
func escapeLen(c rune) int {
	switch c {
	case 'x':
		return 4
	case 'u':
		return 6
	case 'U':
		return 10
	}
	return 2
}
