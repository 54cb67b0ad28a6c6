package aws

import (
	"math"
	"sort"
)

// The statistics behind aws.cloudwatch.compare. Each test is one-sided: it
// asks whether the idle colour is worse than the live one (more errors,
// slower), and returns the p-value of that question: the probability of
// seeing a difference at least this large in idle's disfavour if both
// colours in truth behaved the same. A small p (below the step's alpha)
// means the difference is unlikely to be chance.
//
// The normal distribution comes from the standard library (math.Erfc is
// exact to float64 precision). gonum's stat packages offer the normal CDF
// but neither the Mann-Whitney U test nor Fisher's exact test, so those
// are written here from their textbook definitions and checked in the
// tests against values worked out by hand.

// normalSF is the standard normal survival function, P(Z > z).
func normalSF(z float64) float64 { return 0.5 * math.Erfc(z/math.Sqrt2) }

// proportionResult is the outcome of comparing two error rates.
type proportionResult struct {
	Test string  // "two-proportion z" or "fisher exact"
	Z    float64 // the z statistic (0 for Fisher's test)
	P    float64 // one-sided p-value for "idle's rate is higher"
}

// compareProportions tests whether errors x1 of n1 requests (idle) is a
// higher rate than x2 of n2 (live). With at least 5 expected errors and 5
// expected successes in each colour the two-proportion z-test (pooled
// standard error) is used; below that its normal approximation is poor, and
// Fisher's exact test, which has no such condition, is used instead.
func compareProportions(x1, n1, x2, n2 float64) proportionResult {
	x1, x2 = math.Round(x1), math.Round(x2)
	n1, n2 = math.Round(n1), math.Round(n2)
	pooled := (x1 + x2) / (n1 + n2)
	minExpected := math.Min(math.Min(n1*pooled, n2*pooled), math.Min(n1*(1-pooled), n2*(1-pooled)))
	if minExpected < 5 {
		return proportionResult{Test: "fisher exact", P: fisherGreater(int(x1), int(n1), int(x2), int(n2))}
	}
	se := math.Sqrt(pooled * (1 - pooled) * (1/n1 + 1/n2))
	z := (x1/n1 - x2/n2) / se
	return proportionResult{Test: "two-proportion z", Z: z, P: normalSF(z)}
}

// fisherGreater is the one-sided p-value of Fisher's exact test: given the
// total errors K = x1+x2 among N = n1+n2 requests, the probability that
// idle's n1 requests hold x1 errors or more when errors fall on requests
// at random (the hypergeometric upper tail).
func fisherGreater(x1, n1, x2, n2 int) float64 {
	k, n := x1+x2, n1+n2
	logC := func(a, b int) float64 {
		ga, _ := math.Lgamma(float64(a + 1))
		gb, _ := math.Lgamma(float64(b + 1))
		gab, _ := math.Lgamma(float64(a - b + 1))
		return ga - gb - gab
	}
	denom := logC(n, n1)
	p := 0.0
	for i := x1; i <= min(k, n1); i++ {
		if k-i > n2 {
			continue
		}
		p += math.Exp(logC(k, i) + logC(n-k, n1-i) - denom)
	}
	return math.Min(1, p)
}

// mannWhitneyResult is the outcome of comparing two samples.
type mannWhitneyResult struct {
	Test string  // "mann-whitney exact" or "mann-whitney normal"
	U    float64 // U of the idle sample: pairs (idle, live) where idle is larger, ties counting one half
	Z    float64 // the normal approximation's z (0 for the exact test)
	P    float64 // one-sided p-value for "idle's values tend to be larger"
}

// exactLimit bounds n1*n2 for the exact distribution of U, whose table
// grows as (n1*n2)^2.
const exactLimit = 400

// mannWhitney tests whether the idle sample's values tend to be larger
// than the live sample's. It makes no assumption about their distribution
// (latencies are far from normal), only that datapoints are independent.
// Without ties and with small samples the exact distribution of U is used;
// otherwise the normal approximation with the tie correction and a
// continuity correction.
func mannWhitney(idle, live []float64) mannWhitneyResult {
	n1, n2 := len(idle), len(live)
	type obs struct {
		v    float64
		idle bool
	}
	all := make([]obs, 0, n1+n2)
	for _, v := range idle {
		all = append(all, obs{v, true})
	}
	for _, v := range live {
		all = append(all, obs{v, false})
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].v < all[j].v })
	// Ranks from 1, ties sharing the mean of their ranks.
	var r1, tieSum float64
	ties := false
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].v == all[i].v {
			j++
		}
		t := float64(j - i)
		if t > 1 {
			ties = true
			tieSum += t*t*t - t
		}
		rank := float64(i+j+1) / 2
		for k := i; k < j; k++ {
			if all[k].idle {
				r1 += rank
			}
		}
		i = j
	}
	fn1, fn2 := float64(n1), float64(n2)
	u := r1 - fn1*(fn1+1)/2
	if !ties && n1*n2 <= exactLimit {
		return mannWhitneyResult{Test: "mann-whitney exact", U: u, P: exactUGreater(n1, n2, int(math.Round(u)))}
	}
	n := fn1 + fn2
	sigma := math.Sqrt(fn1 * fn2 / 12 * ((n + 1) - tieSum/(n*(n-1))))
	if sigma == 0 {
		return mannWhitneyResult{Test: "mann-whitney normal", U: u, P: 1}
	}
	z := (u - fn1*fn2/2 - 0.5) / sigma
	return mannWhitneyResult{Test: "mann-whitney normal", U: u, Z: z, P: normalSF(z)}
}

// exactUGreater is P(U >= u) when every arrangement of the n1+n2 values
// is equally likely. count[i][j][k] arrangements of i idle and j live
// values give U = k; the largest value is either idle (adding j to U) or
// live.
func exactUGreater(n1, n2, u int) float64 {
	maxU := n1 * n2
	prev := make([][]float64, n2+1) // row i-1 of the table, by j then k
	cur := make([][]float64, n2+1)
	for j := range prev {
		prev[j] = make([]float64, maxU+1)
		cur[j] = make([]float64, maxU+1)
		prev[j][0] = 1 // no idle values: U is 0 in the one arrangement
	}
	for i := 1; i <= n1; i++ {
		for j := 0; j <= n2; j++ {
			for k := range cur[j] {
				cur[j][k] = 0
				if k >= j {
					cur[j][k] += prev[j][k-j] // largest is idle, above all j live values
				}
				if j > 0 {
					cur[j][k] += cur[j-1][k] // largest is live
				}
			}
		}
		prev, cur = cur, prev
	}
	var total, tail float64
	for k, c := range prev[n2] {
		total += c
		if k >= u {
			tail += c
		}
	}
	return tail / total
}
