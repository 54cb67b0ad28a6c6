package host

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// listener is a listening socket found in /proc/net.
type listener struct {
	Address string // "127.0.0.1:8081", "[::]:8081" or a unix socket path
	Inode   string
}

// procRoot is where the kernel's process information is mounted; tests
// point it at fixtures.
var procRoot = "/proc"

const tcpListen = "0A" // TCP_LISTEN in /proc/net/tcp's st column

// tcpListeners returns the listening TCP sockets on port (any local
// address, IPv4 and IPv6). ok is false when /proc/net is not readable (not
// Linux, or a restricted container): the caller then falls back to a probe.
func tcpListeners(port int) (ls []listener, ok bool) {
	for _, name := range []string{"tcp", "tcp6"} {
		f, err := os.Open(filepath.Join(procRoot, "net", name))
		if err != nil {
			continue
		}
		ok = true
		found, _ := parseProcNetTCP(f, port)
		f.Close()
		ls = append(ls, found...)
	}
	return ls, ok
}

// parseProcNetTCP reads /proc/net/tcp or tcp6 and returns the sockets in
// LISTEN state on port.
func parseProcNetTCP(r io.Reader, port int) ([]listener, error) {
	var out []listener
	sc := bufio.NewScanner(r)
	sc.Scan() // header
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 10 || f[3] != tcpListen {
			continue
		}
		hexIP, hexPort, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		p, err := strconv.ParseUint(hexPort, 16, 16)
		if err != nil || int(p) != port {
			continue
		}
		out = append(out, listener{Address: net.JoinHostPort(procIP(hexIP), strconv.Itoa(port)), Inode: f[9]})
	}
	return out, sc.Err()
}

// procIP decodes the kernel's hex address: 32-bit words in host (little
// endian on every platform bluegreen runs on) byte order.
func procIP(h string) string {
	b, err := hex.DecodeString(h)
	if err != nil || (len(b) != 4 && len(b) != 16) {
		return h
	}
	for i := 0; i+4 <= len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	return net.IP(b).String()
}

// unixListeners returns the listening unix sockets bound to path.
func unixListeners(path string) (ls []listener, ok bool) {
	f, err := os.Open(filepath.Join(procRoot, "net", "unix"))
	if err != nil {
		return nil, false
	}
	defer f.Close()
	ls, _ = parseProcNetUnix(f, path)
	return ls, true
}

// soAcceptCon is __SO_ACCEPTCON in /proc/net/unix's Flags column: the
// socket is listening.
const soAcceptCon = 0x10000

func parseProcNetUnix(r io.Reader, path string) ([]listener, error) {
	var out []listener
	sc := bufio.NewScanner(r)
	sc.Scan() // header
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 8 || f[7] != path {
			continue
		}
		flags, err := strconv.ParseUint(f[3], 16, 32)
		if err != nil || flags&soAcceptCon == 0 {
			continue
		}
		out = append(out, listener{Address: path, Inode: f[6]})
	}
	return out, sc.Err()
}

// socketOwner finds the process that holds a socket inode by scanning
// /proc/*/fd. It returns the lowest such pid (the parent, for servers that
// fork workers) or 0 when none is visible: another user's processes cannot
// be inspected without privileges, which is why the name is best effort.
func socketOwner(inode string) int {
	want := "socket:[" + inode + "]"
	entries, err := os.ReadDir(procRoot)
	if err != nil {
		return 0
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		fdDir := filepath.Join(procRoot, e.Name(), "fd")
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			if target, err := os.Readlink(filepath.Join(fdDir, fd.Name())); err == nil && target == want {
				pids = append(pids, pid)
				break
			}
		}
	}
	if len(pids) == 0 {
		return 0
	}
	sort.Ints(pids)
	return pids[0]
}

// processInfo returns a process's short name and its command line (NULs
// turned to spaces, bounded).
func processInfo(pid int) (name, cmdline string) {
	dir := filepath.Join(procRoot, strconv.Itoa(pid))
	if b, err := os.ReadFile(filepath.Join(dir, "comm")); err == nil {
		name = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile(filepath.Join(dir, "cmdline")); err == nil {
		cmdline = strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
		if len(cmdline) > 512 {
			cmdline = cmdline[:512] + "..."
		}
	}
	return name, cmdline
}

// describeHolder names a process for an error message.
func describeHolder(pid int, name, cmdline string) string {
	switch {
	case pid == 0:
		return "a process this user cannot see (run as root to name it)"
	case cmdline != "":
		return fmt.Sprintf("pid %d (%s: %s)", pid, name, cmdline)
	default:
		return fmt.Sprintf("pid %d (%s)", pid, name)
	}
}
