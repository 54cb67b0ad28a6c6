package host

import (
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"

	crossplane "github.com/nginxinc/nginx-go-crossplane"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// The upstream file is the part of nginx's configuration that says which
// copy is live. Two layouts are common, and both are read and rewritten:
//
// Bare server lines, in a file included inside an upstream block of
// nginx.conf (`upstream app { include /etc/nginx/bluegreen/app.upstream; }`):
//
//	# written by bluegreen host.nginx.set-upstream: live colour green
//	server 127.0.0.1:8082;
//	server 127.0.0.1:8081 backup;
//
// Whole upstream blocks, in a file included at http level
// (`include /etc/nginx/conf.d/*.conf;`), perhaps several of them:
//
//	upstream app {
//	    server 127.0.0.1:8082 max_fails=3;
//	    keepalive 16;
//	}
//	upstream api { server 127.0.0.1:9000; }
//
// The file is parsed by NGINX's own parser (nginx-go-crossplane), so any
// syntax nginx accepts reads correctly: comments, quoting, several
// directives on a line, unix sockets. The live server is the first one of
// the chosen block not marked backup or down.

// upstreamServer is one `server` directive of an upstream.
type upstreamServer struct {
	Address string // as written: "127.0.0.1:8081", "[::1]:8081", "unix:/run/app.sock"
	Host    string
	Port    int // 0 for a unix socket
	Backup  bool
	Down    bool
	Params  []string // every argument after the address, as written
	Line    int
}

// upstreamFile is one parsed upstream file and the block in it that holds
// the servers bluegreen reads and switches.
type upstreamFile struct {
	path string
	text string
	// top is the file's directives, comments included.
	top crossplane.Directives
	// upstream is the chosen `upstream NAME { }` directive; nil when the
	// file holds bare server lines.
	upstream *crossplane.Directive
}

// expectedLayouts says what an upstream file may hold, for error messages.
const expectedLayouts = "bare `server ADDRESS [params];` lines (a file included inside an upstream block) " +
	"or whole `upstream NAME { server ...; }` blocks (a file included at http level)"

// parseNginx parses nginx configuration text as a fragment: the file is
// not nginx.conf, so directives are not checked against the context they
// would have there (a bare server line is only valid inside an upstream
// block), and includes are not followed.
func parseNginx(path, text string) (crossplane.Directives, error) {
	payload, err := crossplane.Parse(path, &crossplane.ParseOptions{
		SingleFile:                true,
		ParseComments:             true,
		StopParsingOnError:        true,
		SkipDirectiveContextCheck: true,
		Open: func(string) (io.ReadCloser, error) {
			return io.NopCloser(strings.NewReader(text)), nil
		},
	})
	if err != nil {
		return nil, err
	}
	if len(payload.Config) != 1 {
		return nil, fmt.Errorf("parsed %d files, want 1", len(payload.Config))
	}
	return payload.Config[0].Parsed, nil
}

// parseUpstreamFile reads an upstream file in either layout. name chooses
// the upstream block when the file holds blocks; without a name the only
// block is chosen, or, among several, the only one whose servers name one
// of ports. Bare server lines belong to a block of nginx.conf, which name
// cannot be checked against, so it is not used then.
func parseUpstreamFile(path, text, name string, ports []int) (*upstreamFile, error) {
	top, err := parseNginx(path, text)
	if err != nil {
		return nil, fmt.Errorf("%s is not nginx configuration: expected %s; the parser found: %w", path, expectedLayouts, err)
	}
	f := &upstreamFile{path: path, text: text, top: top}
	var blocks []*crossplane.Directive
	for _, d := range top {
		if d.Directive == "upstream" && d.IsBlock() {
			blocks = append(blocks, d)
		}
	}
	if len(blocks) == 0 {
		// Bare server lines live inside an upstream block, where no
		// directive has a block of its own.
		for _, d := range top {
			switch {
			case d.Directive == "server" && d.IsBlock():
				return nil, fmt.Errorf("%s: expected %s; found a `server { ... }` block at line %d, which is an http virtual server, not an upstream server", path, expectedLayouts, d.Line)
			case d.IsBlock():
				return nil, fmt.Errorf("%s: expected %s; found a `%s { ... }` block at line %d", path, expectedLayouts, d.Directive, d.Line)
			}
		}
		if _, err := f.servers(); err != nil {
			return nil, err
		}
		return f, nil
	}
	// Beside upstream blocks the file is at http level, where map, geo or
	// server { } blocks may sit too, but a bare server line cannot.
	for _, d := range top {
		if d.Directive == "server" && !d.IsBlock() {
			return nil, fmt.Errorf("%s: expected %s, not both; found a bare server line at line %d beside upstream blocks", path, expectedLayouts, d.Line)
		}
	}
	names := make([]string, len(blocks))
	for i, b := range blocks {
		if len(b.Args) != 1 {
			return nil, fmt.Errorf("%s: upstream block at line %d: expected one name, found %d arguments", path, b.Line, len(b.Args))
		}
		names[i] = b.Args[0]
	}
	switch {
	case name != "":
		i := slices.Index(names, name)
		if i < 0 {
			return nil, fmt.Errorf("%s: expected an `upstream %s { ... }` block; found upstream blocks %s", path, name, strings.Join(names, ", "))
		}
		f.upstream = blocks[i]
	case len(blocks) == 1:
		f.upstream = blocks[0]
	default:
		var naming []*crossplane.Directive
		for _, b := range blocks {
			servers, err := serversOf(path, b.Block)
			if err != nil {
				return nil, err
			}
			if slices.ContainsFunc(servers, func(s upstreamServer) bool { return s.Port != 0 && slices.Contains(ports, s.Port) }) {
				naming = append(naming, b)
			}
		}
		if len(naming) != 1 {
			return nil, fmt.Errorf("%s holds upstream blocks %s and %d of them name a colour's port: give the upstream name (param upstream) to choose one", path, strings.Join(names, ", "), len(naming))
		}
		f.upstream = naming[0]
	}
	if _, err := f.servers(); err != nil {
		return nil, err
	}
	return f, nil
}

// where names the chosen block for messages: "upstream app in FILE" or FILE.
func (f *upstreamFile) where() string {
	if f.upstream != nil {
		return fmt.Sprintf("upstream %s in %s", f.upstream.Args[0], f.path)
	}
	return f.path
}

// block is the list of directives that holds the servers.
func (f *upstreamFile) block() crossplane.Directives {
	if f.upstream != nil {
		return f.upstream.Block
	}
	return f.top
}

func (f *upstreamFile) servers() ([]upstreamServer, error) { return serversOf(f.path, f.block()) }

// serversOf reads the server directives of a block. Other directives
// (keepalive, zone, least_conn, ...) do not choose the live copy.
func serversOf(path string, block crossplane.Directives) ([]upstreamServer, error) {
	var out []upstreamServer
	for _, d := range block {
		if d.Directive != "server" {
			continue
		}
		s, err := parseServer(d)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, s)
	}
	return out, nil
}

func parseServer(d *crossplane.Directive) (upstreamServer, error) {
	if len(d.Args) == 0 {
		return upstreamServer{}, fmt.Errorf("server directive at line %d: expected an address, found none", d.Line)
	}
	s := upstreamServer{Address: d.Args[0], Params: d.Args[1:], Line: d.Line}
	for _, a := range s.Params {
		switch a {
		case "backup":
			s.Backup = true
		case "down":
			s.Down = true
		}
	}
	if rest, ok := strings.CutPrefix(s.Address, "unix:"); ok {
		s.Host = rest
	} else if h, p, err := net.SplitHostPort(s.Address); err == nil {
		port, err := strconv.Atoi(p)
		if err != nil || port <= 0 || port > 65535 {
			return upstreamServer{}, fmt.Errorf("server %s at line %d: expected a port from 1 to 65535, found %q", s.Address, d.Line, p)
		}
		s.Host, s.Port = h, port
	} else {
		s.Host, s.Port = s.Address, 80 // nginx's default port
	}
	return s, nil
}

// liveServer returns the first server that takes traffic.
func liveServer(servers []upstreamServer) (upstreamServer, bool) {
	for _, s := range servers {
		if !s.Backup && !s.Down {
			return s, true
		}
	}
	return upstreamServer{}, false
}

// markerPrefix starts the comment bluegreen keeps in a file it writes.
const markerPrefix = " written by bluegreen host.nginx.set-upstream"

func marker(colour string) string {
	if colour == "" {
		return markerPrefix
	}
	return markerPrefix + ": live colour " + colour
}

// renderUpstream writes a new bare upstream file for one live server and,
// when backupPort is not 0, the previous copy as a backup server. It is
// what an empty upstream file becomes.
func renderUpstream(host string, port int, colour string, backupPort int) string {
	text := "#" + marker(colour) + "\n" + serverLine(host, port, nil, false) + "\n"
	if backupPort != 0 && backupPort != port {
		text += serverLine(host, backupPort, nil, true) + "\n"
	}
	return text
}

func serverLine(host string, port int, params []string, backup bool) string {
	return buildLine(serverDirective(host, port, params, backup))
}

func serverDirective(host string, port int, params []string, backup bool) *crossplane.Directive {
	args := []string{net.JoinHostPort(host, strconv.Itoa(port))}
	args = append(args, params...)
	if backup {
		args = append(args, "backup")
	}
	return &crossplane.Directive{Directive: "server", Args: args}
}

// buildLine renders one simple directive or comment with nginx's quoting.
func buildLine(d *crossplane.Directive) string {
	if d.IsComment() {
		return "#" + *d.Comment
	}
	parts := []string{crossplane.Enquote(d.Directive)}
	for _, a := range d.Args {
		parts = append(parts, crossplane.Enquote(a))
	}
	return strings.Join(parts, " ") + ";"
}

// upstreamLayoutsDoc explains the two layouts in the nginx steps' docs.
const upstreamLayoutsDoc = "The upstream file may hold bare `server` lines, when nginx.conf includes it inside " +
	"an upstream block (`upstream app { include /etc/nginx/bluegreen/app.upstream; }`), or whole " +
	"`upstream NAME { server ...; }` blocks, when it is included at http level " +
	"(`include /etc/nginx/conf.d/*.conf;`). With several blocks, `upstream` names the one " +
	"that chooses the colour; without it, the one block whose servers name a colour's port is used. " +
	"The file is read with NGINX's own parser (nginx-go-crossplane), so comments, quoting and " +
	"several directives on one line read as nginx reads them."

// upstreamParam chooses the upstream block in a file of whole blocks.
var upstreamParam = steps.Param{Name: "upstream", Type: steps.String,
	Doc: "The name of the upstream block to read or switch, when the file holds whole " +
		"`upstream NAME { }` blocks; needed only when several of them name a colour's port. " +
		"Not used for a file of bare server lines.",
	Examples: []any{"app"}}

// portsOf lists the ports of a colours map (colour name to port).
func portsOf(colours map[string]any) []int {
	var out []int
	for _, name := range sortedKeys(colours) {
		if v, err := steps.Coerce(steps.Int, "", colours[name]); err == nil {
			out = append(out, v.(int))
		}
	}
	return out
}
