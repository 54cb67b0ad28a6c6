package host

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// The upstream include file is the part of nginx's configuration that says
// which copy is live. nginx.conf holds
//
//	upstream app { include /etc/nginx/bluegreen/app.upstream; }
//
// and the include file holds server lines, which host.nginx.set-upstream
// writes as
//
//	# written by bluegreen host.nginx.set-upstream: live colour green
//	server 127.0.0.1:8082;
//	server 127.0.0.1:8081 backup;
//
// Reading accepts any nginx upstream syntax for server lines (parameters,
// comments, several servers, unix sockets), so a file edited by hand still
// reads correctly; the live server is the first one not marked backup or
// down.

// upstreamServer is one `server` directive of an include file.
type upstreamServer struct {
	Address string // as written: "127.0.0.1:8081", "[::1]:8081", "unix:/run/app.sock"
	Host    string
	Port    int // 0 for a unix socket
	Backup  bool
	Down    bool
}

// parseUpstream reads the server directives of an include file. Other
// directives (keepalive, zone, ...) are ignored: they may live in the
// include file too and do not choose the live copy.
func parseUpstream(text string) ([]upstreamServer, error) {
	var lines []string
	for _, line := range strings.Split(text, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		lines = append(lines, line)
	}
	var out []upstreamServer
	for _, stmt := range strings.Split(strings.Join(lines, "\n"), ";") {
		fields := strings.Fields(stmt)
		if len(fields) == 0 || fields[0] != "server" {
			continue
		}
		if len(fields) < 2 {
			return nil, fmt.Errorf("server directive without an address")
		}
		s := upstreamServer{Address: fields[1]}
		for _, f := range fields[2:] {
			switch f {
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
				return nil, fmt.Errorf("server %s: invalid port %q", s.Address, p)
			}
			s.Host, s.Port = h, port
		} else {
			s.Host, s.Port = s.Address, 80 // nginx's default port
		}
		out = append(out, s)
	}
	return out, nil
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

// renderUpstream writes the include file for one live server and, when
// backupPort is not 0, the previous copy as a backup server.
func renderUpstream(host string, port int, colour string, backupPort int) string {
	comment := "# written by bluegreen host.nginx.set-upstream"
	if colour != "" {
		comment += ": live colour " + colour
	}
	text := fmt.Sprintf("%s\nserver %s;\n", comment, net.JoinHostPort(host, strconv.Itoa(port)))
	if backupPort != 0 && backupPort != port {
		text += fmt.Sprintf("server %s backup;\n", net.JoinHostPort(host, strconv.Itoa(backupPort)))
	}
	return text
}
