package host

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func init() {
	steps.Register(steps.Spec{
		Kind:    "host.identity",
		Title:   "Compare the copies' identity",
		Summary: "Compares what two copies present to the outside, the TLS certificate on their ports and their identity files, so an integration sees the same signature after the switch.",
		Doc: "An integration that pins a certificate, checks a signing key or is bound to a " +
			"licence notices when the copy behind the switch presents something else. The step " +
			"compares, for the certificate each port serves: its SHA-256 fingerprint, its public " +
			"key (SPKI SHA-256, what pinning usually checks), subject and SANs; and for each " +
			"listed identity file (licence, signing key, machine key) its SHA-256 in both folders.\n\n" +
			"With `tls: auto` a port that answers in plain text has no certificate, and two " +
			"plain ports are equal; `tls: required` makes plain text an error. The certificate " +
			"is read, not verified: the copies usually serve the production name's certificate " +
			"on a loopback address.",
		Rules: []steps.Rule{
			steps.Between("left_port", 1, 65535),
			steps.Between("right_port", 1, 65535),
			steps.Requires("left_port", "right_port"),
			steps.Requires("right_port", "left_port"),
			steps.Requires("files", "left_dir", "right_dir"),
			steps.AtLeastOneOf("left_port", "files"),
			steps.PositiveDuration("timeout"),
		},
		Params: []steps.Param{
			{Name: "host", Type: steps.String, Default: "127.0.0.1",
				Doc: "The host both ports are on."},
			{Name: "left_port", Type: steps.Int,
				Doc: "The first copy's port, usually the live one.", Examples: []any{8081}},
			{Name: "right_port", Type: steps.Int,
				Doc: "The second copy's port.", Examples: []any{8082}},
			{Name: "server_name", Type: steps.String,
				Doc: "The TLS server name (SNI) to ask for, e.g. the public host name; none when empty.", Examples: []any{"app.example.com"}},
			{Name: "tls", Type: steps.String, Default: "auto", Enum: []string{"auto", "required"},
				Doc: "Whether a port that does not speak TLS is acceptable (auto) or an error (required)."},
			{Name: "left_dir", Type: steps.String,
				Doc: "The first copy's folder, for files.", Examples: []any{"/srv/app/blue"}},
			{Name: "right_dir", Type: steps.String,
				Doc: "The second copy's folder, for files.", Examples: []any{"/srv/app/green"}},
			{Name: "files", Type: steps.List, Items: steps.String,
				Doc: "Identity files, relative to each folder, whose content must be equal.", Examples: []any{[]any{"config/licence.lic", "keys/saml-signing.pem"}}},
			{Name: "fail_on_difference", Type: steps.Bool, Default: true,
				Doc: "Fail when anything differs. Set false to only report."},
			{Name: "timeout", Type: steps.Duration, Default: 5 * time.Second,
				Doc: "Time allowed for each TLS handshake."},
		},
		Outputs: []steps.Output{
			{Name: "same", Type: steps.Bool, Doc: "Whether both copies present the same identity."},
			{Name: "differences", Type: steps.List, Doc: "One sentence per difference."},
			{Name: "left_certificate", Type: steps.Map, Doc: "The first port's certificate: fingerprint, public_key, subject, issuer, sans, not_after (empty without TLS)."},
			{Name: "right_certificate", Type: steps.Map, Doc: "The second port's certificate, in the same form."},
			{Name: "files_compared", Type: steps.Int, Doc: "How many identity files were compared."},
		},
		New: func() steps.Step { return steps.StepFunc(identityStep) },
	})
}

func identityStep(ctx context.Context, call *steps.Call) (steps.Outputs, error) {
	p := call.Params
	fail := func(format string, args ...any) error {
		return fmt.Errorf(format, args...)
	}
	if p.Has("left_port") != p.Has("right_port") {
		return nil, fail("give both params \"left_port\" and \"right_port\", or neither")
	}
	files := p.Strings("files")
	if len(files) > 0 && (p.String("left_dir") == "" || p.String("right_dir") == "") {
		return nil, fail("param \"files\" needs \"left_dir\" and \"right_dir\"")
	}
	if !p.Has("left_port") && len(files) == 0 {
		return nil, fail("nothing to compare: give the ports, identity files, or both")
	}

	var diffs []string
	out := steps.Outputs{"left_certificate": map[string]any{}, "right_certificate": map[string]any{}, "files_compared": len(files)}
	if p.Has("left_port") {
		for _, side := range []string{"left", "right"} {
			addr := net.JoinHostPort(p.String("host"), strconv.Itoa(p.Int(side+"_port")))
			c, err := servedCertificate(ctx, addr, p.String("server_name"), p.Duration("timeout"))
			if err != nil {
				return nil, fail("read the certificate on %s (%s): %w", addr, side, err)
			}
			if c == nil && p.String("tls") == "required" {
				return nil, fail("%s (%s) does not speak TLS", addr, side)
			}
			out[side+"_certificate"] = certSummary(c)
		}
		diffs = append(diffs, compareCerts(out["left_certificate"].(map[string]any), out["right_certificate"].(map[string]any))...)
	}
	for _, f := range files {
		d, err := compareFile(p.String("left_dir"), p.String("right_dir"), f)
		if err != nil {
			return nil, fail("%w", err)
		}
		if d != "" {
			diffs = append(diffs, d)
		}
	}
	out["same"] = len(diffs) == 0
	out["differences"] = bounded(diffs, -1)
	if len(diffs) > 0 && p.Bool("fail_on_difference") {
		return out, fail("the copies present different identities: %s", strings.Join(diffs, "; "))
	}
	return out, nil
}

// servedCertificate returns the leaf certificate served on addr, or nil
// when the port answers but not in TLS. A port that does not answer at all
// is an error: there is no copy there to compare.
func servedCertificate(ctx context.Context, addr, serverName string, timeout time.Duration) (*x509.Certificate, error) {
	d := tls.Dialer{
		NetDialer: &net.Dialer{Timeout: timeout},
		// Reading the certificate is the point, not trusting it: the copies
		// serve the production name on a loopback address.
		Config: &tls.Config{ServerName: serverName, InsecureSkipVerify: true},
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		var rh tls.RecordHeaderError
		if errors.As(err, &rh) {
			return nil, nil // a plain-text reply: no TLS on this port
		}
		return nil, err
	}
	defer conn.Close()
	state := conn.(*tls.Conn).ConnectionState()
	if len(state.PeerCertificates) == 0 {
		return nil, errors.New("the server sent no certificate")
	}
	return state.PeerCertificates[0], nil
}

// certSummary is the comparable, expression-friendly form of a certificate.
func certSummary(c *x509.Certificate) map[string]any {
	if c == nil {
		return map[string]any{}
	}
	fp := sha256.Sum256(c.Raw)
	pk := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	var sans []string
	sans = append(sans, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		sans = append(sans, ip.String())
	}
	for _, u := range c.URIs {
		sans = append(sans, u.String())
	}
	sans = append(sans, c.EmailAddresses...)
	sort.Strings(sans)
	return map[string]any{
		"fingerprint": hex.EncodeToString(fp[:]),
		"public_key":  hex.EncodeToString(pk[:]),
		"subject":     c.Subject.String(),
		"issuer":      c.Issuer.String(),
		"sans":        bounded(sans, -1),
		"not_after":   c.NotAfter.UTC().Format(time.RFC3339),
	}
}

// compareCerts lists what an integration would see change.
func compareCerts(l, r map[string]any) []string {
	switch {
	case len(l) == 0 && len(r) == 0:
		return nil
	case len(l) == 0:
		return []string{"the right port serves TLS, the left does not"}
	case len(r) == 0:
		return []string{"the left port serves TLS, the right does not"}
	}
	var out []string
	for _, field := range []string{"fingerprint", "public_key", "subject", "issuer", "sans"} {
		if !reflect.DeepEqual(l[field], r[field]) {
			out = append(out, fmt.Sprintf("certificate %s: left %s, right %s", field, steps.FormatValue(l[field]), steps.FormatValue(r[field])))
		}
	}
	return out
}

// compareFile compares one identity file in both folders and returns the
// difference in words, or "".
func compareFile(leftDir, rightDir, rel string) (string, error) {
	if filepath.IsAbs(rel) || strings.HasPrefix(filepath.Clean(rel), "..") {
		return "", fmt.Errorf("param \"files\": %q must be relative to the folders", rel)
	}
	var sums [2]string
	var missing []string
	for i, dir := range []string{leftDir, rightDir} {
		h, err := fileHash(filepath.Join(dir, rel))
		if errors.Is(err, os.ErrNotExist) {
			missing = append(missing, []string{"left", "right"}[i])
			continue
		}
		if err != nil {
			return "", fmt.Errorf("hash identity file: %w", err)
		}
		sums[i] = hex.EncodeToString(h)
	}
	switch len(missing) {
	case 2:
		return "", fmt.Errorf("identity file %s is in neither folder (%s, %s)", rel, leftDir, rightDir)
	case 1:
		return fmt.Sprintf("file %s: missing on the %s", rel, missing[0]), nil
	}
	if sums[0] != sums[1] {
		return fmt.Sprintf("file %s: left sha256 %.12s, right sha256 %.12s", rel, sums[0], sums[1]), nil
	}
	return "", nil
}
