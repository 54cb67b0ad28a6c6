package host

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
	"time"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func init() {
	steps.Register(steps.Spec{
		Kind:    "host.port",
		Title:   "Check a port",
		Summary: "Reports whether a TCP port (or a unix socket) is listening and which process holds it.",
		Doc: "Made to be a gate: `gate: {until: listening, timeout: 1m}` waits for a copy to open " +
			"its port, `gate: {until: \"!listening\", timeout: 2m}` waits until the old copy has " +
			"released it, so the next release can bind it. With `expect` the step itself fails " +
			"when the port is not in that state, and the error names the process that holds " +
			"the port: the last error of a timed-out gate then says who did not let go.\n\n" +
			"On Linux the listening sockets are read from /proc/net (any local address, IPv4 " +
			"and IPv6) and the holding process from /proc/*/fd; other users' processes are only " +
			"named when bluegreen runs as root. Where /proc is not available a TCP connection " +
			"to `host` decides.",
		Rules: []steps.Rule{
			steps.ExactlyOneOf("port", "socket"),
			steps.Between("port", 1, 65535),
		},
		Params: []steps.Param{
			{Name: "port", Type: steps.Int,
				Doc: "The TCP port. Give port or socket.", Examples: []any{8081}},
			{Name: "socket", Type: steps.String,
				Doc: "A unix socket path, for copies that listen on a socket (php-fpm, gunicorn) instead of a port.", Examples: []any{"/run/app-green.sock"}},
			{Name: "host", Type: steps.String, Default: "127.0.0.1",
				Doc: "The host to connect to when /proc cannot be read."},
			{Name: "expect", Type: steps.String, Default: "any", Enum: []string{"any", "listening", "free"},
				Doc: "Fail unless the port is in this state; `any` only reports."},
		},
		Outputs: []steps.Output{
			{Name: "listening", Type: steps.Bool, Doc: "Whether something listens on the port or socket."},
			{Name: "address", Type: steps.String, Doc: "The local address it listens on, e.g. 0.0.0.0:8081."},
			{Name: "pid", Type: steps.Int, Doc: "The process that holds it; 0 when free or not visible."},
			{Name: "process", Type: steps.String, Doc: "That process's name, e.g. nginx."},
			{Name: "command", Type: steps.String, Doc: "That process's command line (at most 512 bytes)."},
		},
		New: func() steps.Step { return steps.StepFunc(portStep) },
	})
}

func portStep(ctx context.Context, call *steps.Call) (steps.Outputs, error) {
	p := call.Params
	if p.Has("port") == p.Has("socket") {
		return nil, errors.New("give exactly one of params \"port\" and \"socket\"")
	}
	what := "port " + strconv.Itoa(p.Int("port"))
	var ls []listener
	var procOK bool
	if p.Has("socket") {
		what = "socket " + p.String("socket")
		ls, procOK = unixListeners(p.String("socket"))
	} else {
		if port := p.Int("port"); port <= 0 || port > 65535 {
			return nil, fmt.Errorf("param \"port\": expected 1 to 65535, found %d", port)
		}
		ls, procOK = tcpListeners(p.Int("port"))
	}

	out := steps.Outputs{"listening": false, "address": "", "pid": 0, "process": "", "command": ""}
	if procOK {
		if len(ls) > 0 {
			out["listening"], out["address"] = true, ls[0].Address
			for _, l := range ls {
				if pid := socketOwner(l.Inode); pid != 0 {
					name, cmdline := processInfo(pid)
					out["pid"], out["process"], out["command"] = pid, name, cmdline
					break
				}
			}
		}
	} else {
		listening, addr, err := probe(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("probe %s: %w", what, err)
		}
		out["listening"], out["address"] = listening, addr
	}

	switch listening := out["listening"].(bool); {
	case p.String("expect") == "listening" && !listening:
		return out, fmt.Errorf("%s is not listening", what)
	case p.String("expect") == "free" && listening:
		return out, fmt.Errorf("%s is still held by %s", what,
			describeHolder(out["pid"].(int), out["process"].(string), out["command"].(string)))
	}
	return out, nil
}

// probe decides by connecting: accepted means listening, refused means
// free; anything else (a timeout, a filtered port) is an error, which a
// gate counts as a failed poll rather than a verdict.
func probe(ctx context.Context, p steps.Params) (bool, string, error) {
	network, addr := "tcp", net.JoinHostPort(p.String("host"), strconv.Itoa(p.Int("port")))
	if p.Has("socket") {
		network, addr = "unix", p.String("socket")
	}
	d := net.Dialer{Timeout: 2 * time.Second}
	c, err := d.DialContext(ctx, network, addr)
	if err == nil {
		c.Close()
		return true, addr, nil
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) {
		return false, "", nil
	}
	return false, "", err
}
