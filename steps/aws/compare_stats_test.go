package aws

import (
	"math"
	"testing"
)

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.6g, want %.6g (±%g)", what, got, want, tol)
	}
}

// The expected values below are worked out by hand from the definitions,
// not by the code under test.
func TestNormalSF(t *testing.T) {
	near(t, "P(Z > 1.959964)", normalSF(1.959964), 0.025, 1e-6)
	near(t, "P(Z > 1.644854)", normalSF(1.644854), 0.05, 1e-6)
	near(t, "P(Z > 0)", normalSF(0), 0.5, 1e-12)
}

func TestCompareProportions(t *testing.T) {
	// 50/1000 against 10/1000: pooled 0.03, se = sqrt(0.03*0.97*0.002)
	// = 0.0076289, z = 0.04/0.0076289 = 5.2432, p = 7.9e-8.
	r := compareProportions(50, 1000, 10, 1000)
	if r.Test != "two-proportion z" {
		t.Fatalf("test = %s", r.Test)
	}
	near(t, "z", r.Z, 5.2432, 1e-3)
	near(t, "p", r.P, 7.9e-8, 1e-8)

	// Equal rates: z = 0, p = 0.5, no evidence either way.
	r = compareProportions(20, 1000, 20, 1000)
	near(t, "z equal", r.Z, 0, 1e-12)
	near(t, "p equal", r.P, 0.5, 1e-12)

	// Idle better than live: p close to 1.
	if r = compareProportions(10, 1000, 50, 1000); r.P < 0.99 {
		t.Errorf("idle better: p = %g, want near 1", r.P)
	}

	// Fisher's lady tasting tea: 3 of 4 against 1 of 4; P(X >= 3) =
	// (C(4,3)C(4,1) + C(4,4)C(4,0)) / C(8,4) = 17/70.
	r = compareProportions(3, 4, 1, 4)
	if r.Test != "fisher exact" {
		t.Fatalf("small counts use %s", r.Test)
	}
	near(t, "fisher p", r.P, 17.0/70, 1e-12)

	// No error anywhere: nothing to see, p = 1.
	near(t, "no errors", compareProportions(0, 500, 0, 500).P, 1, 1e-12)
	// 3 errors in 1000 against none: P(X >= 3) with K = 3, N = 2000,
	// n1 = 1000 is C(1000,3)/C(2000,3) = (1000*999*998)/(2000*1999*1998).
	near(t, "fisher 3 vs 0", compareProportions(3, 1000, 0, 1000).P, 1000.0*999*998/(2000*1999*1998), 1e-12)
}

func TestMannWhitney(t *testing.T) {
	// Every idle value above every live one, 5 each: U = 25, and only one
	// of the C(10,5) = 252 arrangements is that extreme.
	r := mannWhitney([]float64{6, 7, 8, 9, 10}, []float64{1, 2, 3, 4, 5})
	if r.Test != "mann-whitney exact" {
		t.Fatalf("test = %s", r.Test)
	}
	near(t, "U", r.U, 25, 0)
	near(t, "p", r.P, 1.0/252, 1e-12)

	// Reversed: U = 0, P(U >= 0) = 1.
	near(t, "p reversed", mannWhitney([]float64{1, 2, 3}, []float64{4, 5, 6}).P, 1, 1e-12)

	// Idle 1, 4 against live 2, 3: U = 2 (4 beats both). Of the C(4,2) = 6
	// arrangements U takes 0, 1, 2, 2, 3, 4, so P(U >= 2) = 4/6.
	r = mannWhitney([]float64{1, 4}, []float64{2, 3})
	near(t, "U small", r.U, 2, 0)
	near(t, "p small", r.P, 4.0/6, 1e-12)

	// Ties use the normal approximation: idle {2, 3, 3}, live {1, 2, 2}.
	// Ranks: 1 -> 1; the three 2s -> 3; the two 3s -> 5.5. Idle's rank sum
	// is 3 + 5.5 + 5.5 = 14, U = 14 - 6 = 8, mean 4.5. Tie term: (27-3) +
	// (8-2) = 30; sigma = sqrt(9/12 * (7 - 30/30)) = sqrt(4.5) = 2.12132;
	// z = (8 - 4.5 - 0.5) / 2.12132 = 1.41421; p = P(Z > 1.41421) = 0.078650.
	r = mannWhitney([]float64{2, 3, 3}, []float64{1, 2, 2})
	if r.Test != "mann-whitney normal" {
		t.Fatalf("ties use %s", r.Test)
	}
	near(t, "U ties", r.U, 8, 1e-12)
	near(t, "z ties", r.Z, 1.41421, 1e-4)
	near(t, "p ties", r.P, 0.078650, 1e-5)

	// All values equal: no evidence, p = 1.
	near(t, "all equal", mannWhitney([]float64{5, 5, 5}, []float64{5, 5}).P, 1, 0)

	// Large samples without ties go to the normal approximation and agree
	// with the exact answer's direction.
	var a, b []float64
	for i := 0; i < 30; i++ {
		a = append(a, float64(2*i+1)) // odd: idle slightly larger
		b = append(b, float64(2*i))
	}
	r = mannWhitney(a, b)
	if r.Test != "mann-whitney normal" || r.P < 0.3 || r.P > 0.5 {
		t.Errorf("interleaved samples: %+v, want a normal approximation with p a little below 0.5", r)
	}
}
