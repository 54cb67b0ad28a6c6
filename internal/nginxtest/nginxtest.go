// Package nginxtest starts a real nginx for tests: the test's own process,
// with its own prefix directory, configuration, pid file and error log in a
// temporary directory, listening on a free loopback port and proxying to an
// upstream whose servers come from an include file, exactly as the
// same-host strategy expects to find it on a real host.
//
// When the nginx binary is missing the test is skipped, unless CI=true: in
// CI a missing binary is a broken environment and the test fails.
package nginxtest

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"
)

// Nginx is a running nginx owned by one test.
type Nginx struct {
	// Binary is the nginx executable.
	Binary string
	// Prefix is nginx's prefix directory (-p); everything nginx writes is in it.
	Prefix string
	// Conf is the main configuration file (-c).
	Conf string
	// UpstreamFile is the include file inside `upstream app { ... }`, or
	// at http level with Options.UpstreamBlocks.
	UpstreamFile string
	// PreviewFile is the preview map file included at http level
	// (Options.Preview), or "".
	PreviewFile string
	// ErrorLog is nginx's error log.
	ErrorLog string
	// Port is the loopback port nginx listens on.
	Port int
	// URL is http://127.0.0.1:Port.
	URL string

	cmd  *exec.Cmd
	done chan struct{}
}

// Options configure Start.
type Options struct {
	// Upstream is the initial content of the upstream include file, e.g.
	// "server 127.0.0.1:8081;\n". It must name at least one server.
	Upstream string
	// UpstreamKeepalive keeps idle connections to the upstream servers
	// (HTTP/1.1 with `keepalive`), as production configurations usually do.
	// With UpstreamBlocks the file's block holds `keepalive` itself; this
	// only makes the proxy speak HTTP/1.1 with kept-alive connections.
	UpstreamKeepalive bool
	// UpstreamBlocks includes the upstream file at http level, the other
	// common layout: Upstream then holds whole `upstream NAME { ... }`
	// blocks, one of them named app, which the proxy sends to.
	UpstreamBlocks bool
	// Preview adds the preview route of host.nginx.preview: a file
	// included at http level (PreviewFile) maps the X-Preview header to an
	// upstream name in $bluegreen_upstream, and the proxy sends to that
	// variable. The file starts closed: every request goes to app.
	Preview bool
}

// Bin returns the nginx binary, skipping the test when there is none and
// CI is unset, failing it when CI=true.
func Bin(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"} {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("nginx binary not found (CI=true, so this is a failure: install it with apt-get install -y nginx)")
	}
	t.Skip("nginx binary not found; install it with apt-get install -y nginx (this skip becomes a failure under CI=true)")
	return ""
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	// A port below the kernel's ephemeral range: the port is free when
	// this returns, but nothing holds it until the test's own server binds
	// it, and every listener on ":0" (httptest servers, other packages'
	// tests running in parallel) and every outgoing connection draws from
	// the ephemeral range. Seen on CI: a same-host test's idle port was
	// taken by another test's listener before the idle copy started.
	low := ephemeralLow()
	for i := 0; i < 200; i++ {
		port := 10000 + rand.IntN(low-10000)
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue
		}
		l.Close()
		return port
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// ephemeralLow is the first port of the kernel's ephemeral range (Linux's
// default when it cannot be read).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > 10100 {
				return n
			}
		}
	}
	return 32768
}

var confTmpl = template.Must(template.New("nginx.conf").Parse(`# written by nginxtest for one test
daemon off;
master_process on;
worker_processes 2;
pid {{.Prefix}}/nginx.pid;
error_log {{.ErrorLog}} notice;
{{if .Root}}user root;
{{end}}
events { worker_connections 1024; }

http {
    access_log off;
    client_body_temp_path {{.Prefix}}/tmp/body;
    proxy_temp_path {{.Prefix}}/tmp/proxy;
    fastcgi_temp_path {{.Prefix}}/tmp/fastcgi;
    uwsgi_temp_path {{.Prefix}}/tmp/uwsgi;
    scgi_temp_path {{.Prefix}}/tmp/scgi;

{{- if .Blocks}}
    include {{.UpstreamFile}};
{{- else}}
    upstream app {
        include {{.UpstreamFile}};
{{- if .Keepalive}}
        keepalive 16;
{{- end}}
    }
{{- end}}
{{- if .Preview}}
    include {{.PreviewFile}};
{{- end}}

    server {
        listen 127.0.0.1:{{.Port}};
        location / {
            proxy_pass http://{{if .Preview}}$bluegreen_upstream{{else}}app{{end}};
            proxy_next_upstream error timeout;
{{- if .Keepalive}}
            proxy_http_version 1.1;
            proxy_set_header Connection "";
{{- end}}
        }
    }
}
`))

// Start writes a configuration and starts nginx in the foreground as a
// child of the test. It returns once nginx accepts connections; cleanup
// stops it gracefully (SIGQUIT), then kills it if it lingers.
func Start(t testing.TB, opt Options) *Nginx {
	t.Helper()
	bin := Bin(t)
	prefix := t.TempDir()
	n := &Nginx{
		Binary:       bin,
		Prefix:       prefix,
		Conf:         filepath.Join(prefix, "nginx.conf"),
		UpstreamFile: filepath.Join(prefix, "upstream.conf"),
		ErrorLog:     filepath.Join(prefix, "error.log"),
		Port:         FreePort(t),
		done:         make(chan struct{}),
	}
	n.URL = "http://127.0.0.1:" + strconv.Itoa(n.Port)
	if opt.Preview {
		n.PreviewFile = filepath.Join(prefix, "preview.conf")
		closed := "# no preview open\nmap $http_x_preview $bluegreen_upstream {\n    default app;\n}\n"
		if err := os.WriteFile(n.PreviewFile, []byte(closed), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi", "logs"} {
		if err := os.MkdirAll(filepath.Join(prefix, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var conf bytes.Buffer
	err := confTmpl.Execute(&conf, map[string]any{
		"Prefix": prefix, "ErrorLog": n.ErrorLog, "UpstreamFile": n.UpstreamFile,
		"Port": n.Port, "Root": os.Geteuid() == 0, "Keepalive": opt.UpstreamKeepalive,
		"Blocks": opt.UpstreamBlocks, "Preview": opt.Preview, "PreviewFile": n.PreviewFile,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(n.Conf, conf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(n.UpstreamFile, []byte(opt.Upstream), 0o644); err != nil {
		t.Fatal(err)
	}

	n.cmd = exec.Command(bin, n.args()...)
	n.cmd.Stdout, n.cmd.Stderr = os.Stderr, os.Stderr
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	go func() { n.cmd.Wait(); close(n.done) }()
	t.Cleanup(n.stop)

	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(n.Port), time.Second)
		if err == nil {
			c.Close()
			return n
		}
		select {
		case <-n.done:
			t.Fatalf("nginx exited at start-up: %s\n%s", n.cmd.ProcessState, n.Log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx does not listen on %d after 15s:\n%s", n.Port, n.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// args are the flags every nginx invocation for this instance needs; -e
// keeps even the earliest messages out of the system's log directory.
func (n *Nginx) args() []string {
	return []string{"-p", n.Prefix, "-c", n.Conf, "-e", n.ErrorLog}
}

// TestCommand is the argv that checks this instance's configuration.
func (n *Nginx) TestCommand() []string {
	return append(append([]string{n.Binary}, n.args()...), "-t", "-q")
}

// ReloadCommand is the argv that reloads this instance.
func (n *Nginx) ReloadCommand() []string {
	return append(append([]string{n.Binary}, n.args()...), "-s", "reload")
}

// Reload runs ReloadCommand and fails the test if it fails.
func (n *Nginx) Reload(t testing.TB) {
	t.Helper()
	argv := n.ReloadCommand()
	if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("reload nginx: %v: %s", err, out)
	}
}

// Log returns the error log, for failure messages.
func (n *Nginx) Log() string {
	b, _ := os.ReadFile(n.ErrorLog)
	return string(b)
}

// Running reports whether the nginx master is still running.
func (n *Nginx) Running() bool {
	select {
	case <-n.done:
		return false
	default:
		return true
	}
}

func (n *Nginx) stop() {
	if !n.Running() {
		return
	}
	_ = n.cmd.Process.Signal(syscall.SIGQUIT)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	select {
	case <-n.done:
	case <-ctx.Done():
		_ = n.cmd.Process.Kill()
		<-n.done
	}
}

// Alerts returns the error log lines at level alert or worse ("[alert]",
// "[emerg]", "[crit]"), which a healthy test run never produces.
func (n *Nginx) Alerts() []string {
	var out []string
	for _, line := range strings.Split(n.Log(), "\n") {
		for _, lvl := range []string{"[alert]", "[emerg]", "[crit]"} {
			if strings.Contains(line, lvl) {
				out = append(out, line)
				break
			}
		}
	}
	return out
}
