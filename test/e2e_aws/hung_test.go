package e2e_aws

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/awstest"
)

// bakeRunbook is a bake gate alone: a CloudWatch read polled every 500ms
// that fails the release when the gate's 3s run out.
const bakeRunbook = `version: 1
name: hung-bake
colours: {blue: {}, green: {}}
steps:
  - id: bake
    uses: aws.cloudwatch.metric
    with: {namespace: AWS/ApplicationELB, metric: HTTPCode_Target_5XX_Count, stat: Sum}
    gate: {until: "datapoints > 1000", every: 500ms, timeout: 3s}
`

// TestHungEndpointFailsTheGate is defect 4's AWS half: with the endpoint
// accepting connections and never answering, a bake with a 3s timeout
// must fail (exit 1) once its time is up, not sit in GetMetricData for
// minutes.
func TestHungEndpointFailsTheGate(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	bin := binary(t)
	dir := t.TempDir()
	rb := filepath.Join(dir, "bake.yaml")
	if err := os.WriteFile(rb, []byte(bakeRunbook), 0o644); err != nil {
		t.Fatal(err)
	}
	env := os.Environ()
	for k, v := range awstest.Env(stsOnly(t)) {
		env = append(env, k+"="+v)
	}
	cmd := exec.Command(bin, "run", rb, "--state", filepath.Join(dir, "state"), "--log-format", "json")
	cmd.Env = env
	start := time.Now()
	done := make(chan error, 1)
	var out []byte
	go func() {
		var err error
		out, err = cmd.CombinedOutput()
		done <- err
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("the run hung for a minute behind an endpoint that never answers")
	}
	took := time.Since(start)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("exit %v, want 1 (the gate failed):\n%s", err, out)
	}
	if !strings.Contains(string(out), "gate timed out after 3s") || !strings.Contains(string(out), "no answer within") {
		t.Fatalf("the failure does not say the gate timed out on a poll with no answer:\n%s", out)
	}
	t.Logf("hung endpoint: the 3s bake gate failed the run after %s", took.Round(time.Millisecond))
}

// stsOnly is an endpoint that answers sts:GetCallerIdentity, so the run's
// preflight finds working credentials, and never answers anything else:
// the gate's CloudWatch polls hang.
func stsOnly(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if strings.Contains(string(body), "Action=GetCallerIdentity") {
			w.Header().Set("Content-Type", "text/xml")
			_, _ = io.WriteString(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>`+
				`<Arn>arn:aws:iam::123456789012:user/test</Arn><UserId>AIDTEST</UserId><Account>123456789012</Account>`+
				`</GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`)
			return
		}
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
