package host

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned makes a certificate for names.
func selfSigned(t *testing.T, cn string, names ...string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		DNSNames:     names,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func tlsPort(t *testing.T, cert tls.Certificate) int {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().(*net.TCPAddr).Port
}

func plainPort(t *testing.T) int {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().(*net.TCPAddr).Port
}

func TestIdentity(t *testing.T) {
	prod := selfSigned(t, "app.example.com", "app.example.com")
	other := selfSigned(t, "green.internal", "green.internal")
	prodA, prodB, otherPort := tlsPort(t, prod), tlsPort(t, prod), tlsPort(t, other)
	plainA, plainB := plainPort(t), plainPort(t)

	root := t.TempDir()
	left, right := filepath.Join(root, "blue"), filepath.Join(root, "green")
	write(t, left, "licence.lic", "seat=1 host=web1")
	write(t, right, "licence.lic", "seat=1 host=web1")
	write(t, left, "keys/signing.pem", "KEY-A")
	write(t, right, "keys/signing.pem", "KEY-B")
	write(t, left, "only-left.key", "x")
	dirs := map[string]any{"left_dir": left, "right_dir": right}

	tests := []struct {
		name      string
		raw       map[string]any
		wantSame  bool
		wantDiffs []string // substrings, one per difference, in order
		wantErr   string   // for errors other than the differences themselves
	}{
		{name: "same certificate", raw: map[string]any{"left_port": prodA, "right_port": prodB}, wantSame: true},
		{name: "other certificate", raw: map[string]any{"left_port": prodA, "right_port": otherPort},
			wantDiffs: []string{"certificate fingerprint", "certificate public_key", "certificate subject: left CN=app.example.com, right CN=green.internal", "certificate issuer", "certificate sans: left [app.example.com], right [green.internal]"}},
		{name: "both plain", raw: map[string]any{"left_port": plainA, "right_port": plainB}, wantSame: true},
		{name: "tls on one side", raw: map[string]any{"left_port": prodA, "right_port": plainB}, wantDiffs: []string{"the left port serves TLS, the right does not"}},
		{name: "tls required", raw: map[string]any{"left_port": plainA, "right_port": plainB, "tls": "required"}, wantErr: "does not speak TLS"},
		{name: "port not listening", raw: map[string]any{"left_port": prodA, "right_port": freeTCPPort(t)}, wantErr: "connection refused"},
		{name: "same file", raw: with(dirs, "files", []any{"licence.lic"}), wantSame: true},
		{name: "different key", raw: with(dirs, "files", []any{"licence.lic", "keys/signing.pem"}), wantDiffs: []string{"file keys/signing.pem: left sha256"}},
		{name: "file missing on one side", raw: with(dirs, "files", []any{"only-left.key"}), wantDiffs: []string{"file only-left.key: missing on the right"}},
		{name: "file in neither folder", raw: with(dirs, "files", []any{"typo.lic"}), wantErr: "is in neither folder"},
		{name: "escaping path", raw: with(dirs, "files", []any{"../blue/licence.lic"}), wantErr: "must be relative"},
		{name: "one port only", raw: map[string]any{"left_port": prodA}, wantErr: `param "left_port": needs "right_port" too`},
		{name: "nothing to compare", raw: map[string]any{}, wantErr: `at least one of "left_port" or "files" is required`},
		{name: "files without folders", raw: map[string]any{"files": []any{"a"}}, wantErr: "needs \"left_dir\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := with(tt.raw, "fail_on_difference", false)
			out, err := run(t, "host.identity", raw, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			diffs := out["differences"].([]any)
			if out["same"] != tt.wantSame || len(diffs) != len(tt.wantDiffs) {
				t.Fatalf("same = %v, differences = %q; want %d differences", out["same"], diffs, len(tt.wantDiffs))
			}
			for i, want := range tt.wantDiffs {
				if !strings.Contains(diffs[i].(string), want) {
					t.Errorf("difference %d = %q, want it to contain %q", i, diffs[i], want)
				}
			}
			// By default a difference fails the step and is named in the error.
			_, err = run(t, "host.identity", tt.raw, nil)
			if tt.wantSame != (err == nil) {
				t.Errorf("default fail_on_difference: error = %v", err)
			}
		})
	}
}

// with returns a copy of m with k set to v.
func with(m map[string]any, k string, v any) map[string]any {
	out := map[string]any{k: v}
	for mk, mv := range m {
		if mk != k {
			out[mk] = mv
		}
	}
	return out
}
