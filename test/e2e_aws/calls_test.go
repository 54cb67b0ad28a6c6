package e2e_aws

import (
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/awstest"
)

// TestRunDoesNotProbeWhatDetectRead counts the AWS calls of a release of
// each AWS runbook, waits made negligible: detect's record or listener
// and the credentials are no longer probed before detect (detect reading
// them proves both), one call each per run fewer than before. Every other
// read stays: each weight change reads first (for its undo), the ALB one
// reads back what it set, and the run reads the live colour at the end.
func TestRunDoesNotProbeWhatDetectRead(t *testing.T) {
	for _, c := range []struct {
		book string
		o    awstest.Options
		want map[string]int
	}{
		// detect 1 + the records step 1 + 3 reads before the changes + the final read 1.
		{"weighted-dns.yaml", awstest.Options{}, map[string]int{"route53:ListResourceRecordSets": 6, "sts:GetCallerIdentity": 0}},
		// detect 1 + 3 reads before and 3 after the changes + the final read 1.
		{"alb-weighted.yaml", awstest.Options{SharedALB: true}, map[string]int{"elasticloadbalancing:DescribeListeners": 8, "sts:GetCallerIdentity": 0}},
	} {
		t.Run(c.book, func(t *testing.T) {
			w := newWorld(t, c.book, c.o)
			w.cnt.Reset()
			if _, err := w.run(benchTimings); err != nil {
				w.dump()
				t.Fatal(err)
			}
			got := w.cnt.Counts()
			for op, n := range c.want {
				if got[op] != n {
					t.Errorf("%s: %d calls, want %d (all calls: %v)", op, got[op], n, got)
				}
			}
			w.expect(map[string]int{"blue": 0, "green": 100}, nil)
		})
	}
}
