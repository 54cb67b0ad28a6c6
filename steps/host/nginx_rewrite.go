package host

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	crossplane "github.com/nginxinc/nginx-go-crossplane"
)

// rewrite returns the file's text with the chosen block's live server
// switched to host:port and, when backupPort is not 0, host:backupPort
// listed after it as a backup server.
//
// Only the servers that name one of the colours' ports (ports, port and
// backupPort) are replaced; the new live server keeps the parameters of
// the one it replaces (weight, max_fails, fail_timeout, max_conns, ...).
// Every other directive and comment stays: other upstream blocks,
// keepalive, zone, servers of no colour such as a maintenance backup.
//
// The text is edited line by line where the changed servers have lines of
// their own, so the rest of the file stays byte for byte as it was; the
// edit is then parsed again and must give exactly the intended
// directives. When it does not (several directives on one line, a server
// split over lines), the whole file is written by crossplane's builder
// instead: the same directives and comments, in nginx's usual layout.
func (f *upstreamFile) rewrite(host string, port, backupPort int, colourPorts []int, colour string) (string, error) {
	if len(f.top) == 0 && f.upstream == nil {
		return renderUpstream(host, port, colour, backupPort), nil
	}
	ports := append([]int{port, backupPort}, colourPorts...)
	ours := func(d *crossplane.Directive) bool {
		if d.Directive != "server" || d.IsBlock() {
			return false
		}
		s, err := parseServer(d)
		return err == nil && s.Port != 0 && slices.Contains(ports, s.Port)
	}
	block := f.block()

	// The live server's parameters carry over, except the two that would
	// stop it taking traffic.
	var params []string
	for _, d := range block {
		if !ours(d) {
			continue
		}
		s, _ := parseServer(d)
		if s.Backup || s.Down {
			continue
		}
		for _, a := range s.Params {
			if a != "backup" && a != "down" {
				params = append(params, a)
			}
		}
		break
	}
	added := crossplane.Directives{serverDirective(host, port, params, false)}
	if backupPort != 0 && backupPort != port {
		added = append(added, serverDirective(host, backupPort, params, true))
	}

	// edits maps a line number to its new text ("" deletes the line); a
	// line needed by two edits, or an edit that is not a whole-line one,
	// makes the splice impossible and the builder writes the file.
	edits := map[int]string{}
	spliceable := true
	edit := func(line int, text string) {
		if _, dup := edits[line]; dup {
			spliceable = false
		}
		edits[line] = text
	}
	indent := func(line int) string {
		l := lineAt(f.text, line)
		return l[:len(l)-len(strings.TrimLeft(l, " \t"))]
	}

	var newBlock crossplane.Directives
	inserted := false
	removedLines := map[int]bool{}
	for _, d := range block {
		switch {
		case ours(d):
			removedLines[d.Line] = true
			if !inserted {
				newBlock = append(newBlock, added...)
				var lines []string
				for _, a := range added {
					lines = append(lines, indent(d.Line)+buildLine(a))
				}
				edit(d.Line, strings.Join(lines, "\n")+"\n")
				inserted = true
			} else {
				edit(d.Line, "")
			}
		case d.IsComment() && removedLines[d.Line]:
			// A comment at the end of a replaced server's line describes
			// that server: it goes with it.
		default:
			newBlock = append(newBlock, d)
		}
	}
	if !inserted {
		// No server names a colour yet: the new ones go before the first
		// server, or at the end of the block.
		i := slices.IndexFunc(newBlock, func(d *crossplane.Directive) bool { return d.Directive == "server" })
		if i < 0 {
			i = len(newBlock)
		}
		newBlock = slices.Insert(newBlock, i, added...)
		spliceable = false
	}

	var newTop crossplane.Directives
	for _, d := range f.top {
		switch {
		case f.upstream != nil && d == f.upstream:
			c := *d
			c.Block = newBlock
			newTop = append(newTop, &c)
		case f.upstream != nil && d.IsComment() && strings.HasPrefix(*d.Comment, markerPrefix):
			text := marker(colour)
			newTop = append(newTop, &crossplane.Directive{Directive: "#", Line: d.Line, Args: []string{}, Comment: &text})
			edit(d.Line, indent(d.Line)+"#"+text+"\n")
		default:
			newTop = append(newTop, d)
		}
	}
	if f.upstream == nil {
		// The bare layout's block is the top level itself, markers and all.
		newTop = nil
		for _, d := range newBlock {
			if d.IsComment() && strings.HasPrefix(*d.Comment, markerPrefix) {
				text := marker(colour)
				d = &crossplane.Directive{Directive: "#", Line: d.Line, Args: []string{}, Comment: &text}
				edit(d.Line, indent(d.Line)+"#"+text+"\n")
			}
			newTop = append(newTop, d)
		}
	}

	if spliceable {
		text := splice(f.text, edits)
		if got, err := parseNginx(f.path, text); err == nil && sameDirectives(got, newTop) {
			return text, nil
		}
	}
	var buf bytes.Buffer
	if err := crossplane.Build(&buf, crossplane.Config{File: f.path, Parsed: newTop}, &crossplane.BuildOptions{Indent: 4}); err != nil {
		return "", fmt.Errorf("build %s: %w", f.path, err)
	}
	text := buf.String() + "\n"
	if got, err := parseNginx(f.path, text); err != nil || !sameDirectives(got, newTop) {
		return "", fmt.Errorf("%s: the rewritten file does not read back as written (%v); the file is left unchanged", f.path, err)
	}
	return text, nil
}

// lineAt returns line n (1-based) of text without its line break.
func lineAt(text string, n int) string {
	lines := strings.Split(text, "\n")
	if n < 1 || n > len(lines) {
		return ""
	}
	return strings.TrimSuffix(lines[n-1], "\r")
}

// splice replaces whole lines of text: edits maps a 1-based line number to
// its new text, line break included ("" deletes the line).
func splice(text string, edits map[int]string) string {
	lines := strings.SplitAfter(text, "\n")
	var b strings.Builder
	for i, l := range lines {
		if e, ok := edits[i+1]; ok {
			if e != "" && !strings.HasSuffix(l, "\n") {
				e = strings.TrimSuffix(e, "\n") // the last line had no break
			}
			b.WriteString(e)
			continue
		}
		b.WriteString(l)
	}
	return b.String()
}

// sameDirectives compares two directive trees, comments included, ignoring
// line numbers.
func sameDirectives(a, b crossplane.Directives) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Directive != y.Directive || !slices.Equal(x.Args, y.Args) || x.IsBlock() != y.IsBlock() {
			return false
		}
		if (x.Comment == nil) != (y.Comment == nil) || (x.Comment != nil && *x.Comment != *y.Comment) {
			return false
		}
		if !sameDirectives(x.Block, y.Block) {
			return false
		}
	}
	return true
}
