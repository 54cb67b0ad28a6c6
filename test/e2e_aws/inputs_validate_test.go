package e2e_aws

import (
	"errors"
	"strings"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/awstest"
	"github.com/bluegreen-deploy/bluegreen/internal/engine"
)

// TestWeightListsValidate: `--set weights='[]'` used to succeed with all
// traffic on the old colour and that colour's group scaled to 0, and
// `weights='[50]'` to succeed at 50/50 with the old group at 0. The
// shipped runbooks' weight lists now validate themselves: each bad list
// is refused as invalid input (exit 2) before any call, and nothing
// changes.
func TestWeightListsValidate(t *testing.T) {
	for _, book := range []string{"weighted-dns.yaml", "alb-weighted.yaml"} {
		t.Run(book, func(t *testing.T) {
			w := newWorld(t, book, awstest.Options{SharedALB: book == "alb-weighted.yaml"})
			for _, weights := range []string{"[]", "[50]", "[10, 50]", "[50, 10, 100]", "[10, 150, 100]"} {
				res, err := w.run(map[string]string{"weights": weights})
				var inv *engine.InvalidError
				if !errors.As(err, &inv) || !strings.Contains(err.Error(), `input "weights": expected`) {
					t.Fatalf("weights=%s: result %+v, err %v; want the input refused", weights, res, err)
				}
				if len(w.log) != 0 {
					t.Fatalf("weights=%s: %d events; nothing may run", weights, len(w.log))
				}
				w.expect(map[string]int{"blue": 100, "green": 0}, map[string]int{"blue": 2, "green": 0})
			}
			// The shipped default and a sensible list still release.
			w.mustSucceed(map[string]string{"weights": "[25, 100]"}, "green")
			w.expect(map[string]int{"blue": 0, "green": 100}, map[string]int{"blue": 0, "green": 2})
		})
	}
}
