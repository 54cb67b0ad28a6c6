package host

import (
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestParseProcNetTCP(t *testing.T) {
	const tcp = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1 0000000000000000 100 0 0 10 0
   1: 00000000:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 222 1 0000000000000000 100 0 0 10 0
   2: 0100007F:1F91 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 333 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:1F92 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 444 1 0000000000000000 100 0 0 10 0
`
	const tcp6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 555 1 0000000000000000 100 0 0 10 0
`
	tests := []struct {
		name string
		text string
		port int
		want []listener
	}{
		{"loopback and wildcard, established ignored", tcp, 8081, []listener{{"127.0.0.1:8081", "111"}, {"0.0.0.0:8081", "222"}}},
		{"other port", tcp, 8082, []listener{{"127.0.0.1:8082", "444"}}},
		{"nothing", tcp, 9000, nil},
		{"ipv6 loopback", tcp6, 8081, []listener{{"[::1]:8081", "555"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseProcNetTCP(strings.NewReader(tt.text), tt.port)
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestParseProcNetUnix(t *testing.T) {
	const unix = `Num       RefCount Protocol Flags    Type St Inode Path
0000000000000000: 00000002 00000000 00010000 0001 01 1001 /run/app-green.sock
0000000000000000: 00000003 00000000 00000000 0001 03 1002 /run/app-green.sock
0000000000000000: 00000002 00000000 00010000 0001 01 1003 /run/other.sock
0000000000000000: 00000002 00000000 00000000 0002 01 1004
`
	got, err := parseProcNetUnix(strings.NewReader(unix), "/run/app-green.sock")
	want := []listener{{"/run/app-green.sock", "1001"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, %v; want %v", got, err, want)
	}
}

func TestPort(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	heldPort := held.Addr().(*net.TCPAddr).Port
	sock := filepath.Join(t.TempDir(), "app.sock")
	ul, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ul.Close()
	freePort := freeTCPPort(t)
	me, _ := processInfo(os.Getpid())

	tests := []struct {
		name      string
		raw       map[string]any
		noProc    bool // hide /proc to exercise the connect probe
		listening bool
		ownedByMe bool
		wantErr   string
	}{
		{name: "held", raw: map[string]any{"port": heldPort}, listening: true, ownedByMe: true},
		{name: "held, expect listening", raw: map[string]any{"port": heldPort, "expect": "listening"}, listening: true, ownedByMe: true},
		{name: "held, expect free names the holder", raw: map[string]any{"port": heldPort, "expect": "free"}, listening: true, ownedByMe: true,
			wantErr: "port " + strconv.Itoa(heldPort) + " is still held by pid " + strconv.Itoa(os.Getpid()) + " (" + me},
		{name: "free", raw: map[string]any{"port": freePort}},
		{name: "free, expect free", raw: map[string]any{"port": freePort, "expect": "free"}},
		{name: "free, expect listening", raw: map[string]any{"port": freePort, "expect": "listening"}, wantErr: "is not listening"},
		{name: "unix socket", raw: map[string]any{"socket": sock, "expect": "listening"}, listening: true, ownedByMe: true},
		{name: "unix socket missing", raw: map[string]any{"socket": sock + ".nope"}},
		{name: "probe held", raw: map[string]any{"port": heldPort}, noProc: true, listening: true},
		{name: "probe free", raw: map[string]any{"port": freePort, "expect": "listening"}, noProc: true, wantErr: "is not listening"},
		{name: "probe unix", raw: map[string]any{"socket": sock}, noProc: true, listening: true},
		{name: "neither port nor socket", raw: map[string]any{}, wantErr: `one of "port" or "socket" is required`},
		{name: "port out of range", raw: map[string]any{"port": 70000}, wantErr: "expected a number from 1 to 65535, found 70000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.noProc {
				old := procRoot
				procRoot = filepath.Join(t.TempDir(), "no-proc")
				defer func() { procRoot = old }()
			}
			out, err := run(t, "host.port", tt.raw, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if out == nil {
				return
			}
			if out["listening"] != tt.listening {
				t.Errorf("listening = %v, want %v", out["listening"], tt.listening)
			}
			if tt.ownedByMe && (out["pid"] != os.Getpid() || out["process"] != me) {
				t.Errorf("holder = %v %v, want this test (%d %s)", out["pid"], out["process"], os.Getpid(), me)
			}
		})
	}
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
