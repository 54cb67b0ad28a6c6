// Package awstest runs a real moto_server on a loopback port for tests
// and the demo, points the AWS SDK at it, counts the API calls that reach
// it, and builds the blue/green topology the AWS strategies work on
// (Topology).
//
// moto is the "real part" of the AWS tests: the steps talk HTTP to it
// through the unmodified SDK, exactly as they talk to AWS. Where moto 5.2
// behaves differently from AWS, this package says so next to the
// workaround (see the Gap comments in topology.go).
package awstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Region is the region every test and the demo use.
const Region = "us-east-1"

// Moto is a running moto_server.
type Moto struct {
	// URL is the endpoint to use, e.g. http://127.0.0.1:40123: a loopback
	// proxy that serializes DynamoDB requests (see serializer) in front of
	// moto_server.
	URL string

	cmd   *exec.Cmd
	front *serializer
	done  chan struct{}
}

// ErrNotInstalled is returned by Launch when neither moto_server nor a
// python3 with the moto package is available.
var ErrNotInstalled = errors.New("moto is not installed (pip install 'moto[server]'; moto_server or python3 -m moto.server)")

// command finds how to start moto: the moto_server script, or python3 with
// the moto package.
func command() ([]string, error) {
	if p, err := exec.LookPath("moto_server"); err == nil {
		return []string{p}, nil
	}
	if p, err := exec.LookPath("python3"); err == nil {
		if exec.Command(p, "-c", "import moto.server").Run() == nil {
			return []string{p, "-m", "moto.server"}, nil
		}
	}
	return nil, ErrNotInstalled
}

// Launch starts moto_server on a free loopback port and waits until it
// answers. The caller must Close it.
func Launch(ctx context.Context) (*Moto, error) {
	argv, err := command()
	if err != nil {
		return nil, err
	}
	var last error
	// Another process can take the free port between the probe and
	// moto's bind; a second attempt gets another port.
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		m, err := launch(ctx, argv, port)
		if err == nil {
			return m, nil
		}
		last = err
	}
	return nil, last
}

func launch(ctx context.Context, argv []string, port int) (*Moto, error) {
	args := append(append([]string{}, argv[1:]...), "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd := exec.Command(argv[0], args...)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group, so Close also ends any child the pyenv shim
	// or the Python launcher started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	m := &Moto{URL: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(m.done) }()

	deadline := time.Now().Add(60 * time.Second)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := client.Get(m.URL + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return m.serialize()
			}
		}
		select {
		case <-m.done:
			return nil, fmt.Errorf("moto_server on port %d exited before answering: %s", port, out.String())
		case <-ctx.Done():
			m.Close()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			m.Close()
			return nil, fmt.Errorf("moto_server on port %d did not answer within 60s: %s", port, out.String())
		}
	}
}

// serialize puts the DynamoDB serializer in front of the server and
// points URL at it.
func (m *Moto) serialize() (*Moto, error) {
	front, err := newSerializer(m.URL)
	if err != nil {
		m.Close()
		return nil, err
	}
	m.front, m.URL = front, front.URL()
	return m, nil
}

// Close stops the server and its process group.
func (m *Moto) Close() {
	if m == nil || m.cmd.Process == nil {
		return
	}
	if m.front != nil {
		m.front.Close()
	}
	select {
	case <-m.done:
		return
	default:
	}
	_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-m.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
		<-m.done
	}
}

// Config returns an SDK configuration that talks to endpoint (the server,
// or a Counter in front of it) with moto's test credentials. Fixtures use
// it for their own clients, so their calls never mix with the steps'.
func Config(endpoint string) awssdk.Config {
	return awssdk.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: awssdk.String(endpoint),
	}
}

// Env returns the environment that points the SDK's default chain at
// endpoint: what the steps, the CLI and the demo see. It holds only the
// SDK's standard variables, as a user trying bluegreen on an emulator
// would set them; nothing in bluegreen needs to know it talks to moto. Shared config files
// are pointed at paths that do not exist so that a developer's
// ~/.aws never leaks into a test.
func Env(endpoint string) map[string]string {
	none := filepath.Join(os.TempDir(), "bluegreen-awstest-no-such-file")
	return map[string]string{
		"AWS_ENDPOINT_URL":            endpoint,
		"AWS_REGION":                  Region,
		"AWS_ACCESS_KEY_ID":           "testing",
		"AWS_SECRET_ACCESS_KEY":       "testing",
		"AWS_SESSION_TOKEN":           "",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             none,
		"AWS_SHARED_CREDENTIALS_FILE": none,
		"AWS_EC2_METADATA_DISABLED":   "true",
	}
}

// Start launches a server for one test and stops it at the test's end. When
// moto is missing the test is skipped, unless CI=true: on CI a missing
// moto is a broken machine and fails the test.
func Start(tb testing.TB) *Moto {
	tb.Helper()
	m, err := Launch(context.Background())
	if err != nil {
		skipOrFail(tb, err)
	}
	tb.Cleanup(m.Close)
	return m
}

func skipOrFail(tb testing.TB, err error) {
	tb.Helper()
	if errors.Is(err, ErrNotInstalled) && os.Getenv("CI") != "true" {
		tb.Skipf("skipping: %v", err)
	}
	tb.Fatalf("moto: %v", err)
}

var (
	sharedMu   sync.Mutex
	sharedMoto *Moto
	sharedCnt  *Counter
	sharedErr  error
)

// Shared returns the process's server, started on first use, with a
// Counter in front of it, and points this process's environment at the
// Counter (os.Setenv, not t.Setenv: the steps' AWS clients are created once
// per process and keep the endpoint they first saw). Call StopShared from
// TestMain after m.Run.
func Shared(tb testing.TB) (*Moto, *Counter) {
	tb.Helper()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if sharedMoto == nil && sharedErr == nil {
		sharedMoto, sharedErr = Launch(context.Background())
		if sharedErr == nil {
			sharedCnt = NewCounter(sharedMoto.URL)
			for k, v := range Env(sharedCnt.URL) {
				os.Setenv(k, v)
			}
		}
	}
	if sharedErr != nil {
		skipOrFail(tb, sharedErr)
	}
	return sharedMoto, sharedCnt
}

// StopShared stops the server Shared started, if any.
func StopShared() {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if sharedCnt != nil {
		sharedCnt.Close()
	}
	sharedMoto.Close()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free loopback port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	// The request log grows with every call; the head and the last part
	// are what explain a failure.
	if l.b.Len() > 1<<20 {
		l.b.Reset()
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
