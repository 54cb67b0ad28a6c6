// Package faultproxy is a loopback HTTP reverse proxy for tests that puts
// the failures of a real cloud between a client and a server: throttling
// answers shaped as AWS sends them, 500s, connection resets, lost
// responses (the request is applied, the answer never arrives) and black
// holes (the connection is accepted and never answered). Each request
// draws its fate from a seeded generator at the configured rates, and the
// proxy counts what it injected, so a test can report how hard it was hit.
//
// The client under test is pointed at the proxy by its ordinary endpoint
// setting (AWS_ENDPOINT_URL); nothing in the code under test knows.
package faultproxy

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// Fault is a kind of injected failure.
type Fault string

// The faults, and Pass for a request forwarded untouched.
const (
	Pass      Fault = "pass"
	Throttle  Fault = "throttle"   // 400 Throttling / ThrottlingException (429 for other protocols)
	Server500 Fault = "500"        // 500 InternalFailure
	Reset     Fault = "reset"      // the connection is reset before the request is forwarded
	Lost      Fault = "lost"       // forwarded and applied, then the connection is reset
	BlackHole Fault = "black-hole" // accepted, never answered (closed after Hold)
)

// Rates are the probabilities, per request, of each fault. Their sum must
// not exceed 1; the rest pass.
type Rates struct {
	Throttle, Server500, Reset, Lost, BlackHole float64
}

// Options configure a proxy.
type Options struct {
	// Seed makes a run's sequence of fates reproducible (for one order of
	// requests).
	Seed  int64
	Rates Rates
	// Hold is how long a black hole keeps the connection before closing
	// it (default 3s): long enough to trip a client's attempt timeout when
	// it is shorter, short enough for a test.
	Hold time.Duration
	// Match, when set, limits faults to the requests it accepts (others
	// pass): e.g. only Route53, or not DynamoDB.
	Match func(*http.Request) bool
}

// Proxy is a running fault proxy.
type Proxy struct {
	// URL is the proxy's endpoint.
	URL string

	srv   *httptest.Server
	fwd   *httputil.ReverseProxy
	opts  Options
	mu    sync.Mutex
	rng   *rand.Rand
	rates Rates
	count map[Fault]int
	stop  chan struct{}
}

// New starts a proxy in front of target (e.g. moto's URL).
func New(target string, o Options) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("faultproxy: bad target %q", target)
	}
	if err := o.Rates.check(); err != nil {
		return nil, err
	}
	if o.Hold <= 0 {
		o.Hold = 3 * time.Second
	}
	p := &Proxy{opts: o, rng: rand.New(rand.NewSource(o.Seed)), rates: o.Rates, count: map[Fault]int{}, stop: make(chan struct{})}
	p.fwd = httputil.NewSingleHostReverseProxy(u)
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	p.URL = p.srv.URL
	return p, nil
}

func (r Rates) check() error {
	for _, v := range []float64{r.Throttle, r.Server500, r.Reset, r.Lost, r.BlackHole} {
		if v < 0 || v > 1 {
			return fmt.Errorf("faultproxy: a rate must be between 0 and 1, found %g", v)
		}
	}
	if s := r.Throttle + r.Server500 + r.Reset + r.Lost + r.BlackHole; s > 1 {
		return fmt.Errorf("faultproxy: the rates add up to %g, more than 1", s)
	}
	return nil
}

// SetRates changes the rates from now on (e.g. to zero, to check the end
// state through the proxy without faults).
func (p *Proxy) SetRates(r Rates) error {
	if err := r.check(); err != nil {
		return err
	}
	p.mu.Lock()
	p.rates = r
	p.mu.Unlock()
	return nil
}

// Close stops the proxy and ends every held connection.
func (p *Proxy) Close() {
	close(p.stop)
	p.srv.CloseClientConnections()
	p.srv.Close()
}

// Counts returns how many requests met each fate so far.
func (p *Proxy) Counts() map[Fault]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[Fault]int, len(p.count))
	for k, v := range p.count {
		out[k] = v
	}
	return out
}

// Injected is the number of faults injected so far.
func (p *Proxy) Injected() int {
	n := 0
	for f, c := range p.Counts() {
		if f != Pass {
			n += c
		}
	}
	return n
}

// String lists the counts, e.g. "500=3 black-hole=1 pass=120".
func (p *Proxy) String() string {
	c := p.Counts()
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, c[Fault(k)])
	}
	return strings.Join(parts, " ")
}

// fate draws the fault for one request.
func (p *Proxy) fate(r *http.Request) Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := Pass
	if p.opts.Match == nil || p.opts.Match(r) {
		x := p.rng.Float64()
		for _, c := range []struct {
			f    Fault
			rate float64
		}{{Throttle, p.rates.Throttle}, {Server500, p.rates.Server500}, {Reset, p.rates.Reset}, {Lost, p.rates.Lost}, {BlackHole, p.rates.BlackHole}} {
			if x < c.rate {
				f = c.f
				break
			}
			x -= c.rate
		}
	}
	p.count[f]++
	return f
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	switch p.fate(r) {
	case Pass:
		p.fwd.ServeHTTP(w, r)
	case Throttle:
		writeError(w, r, http.StatusBadRequest, "Throttling", "Rate exceeded")
	case Server500:
		writeError(w, r, http.StatusInternalServerError, "InternalFailure", "We encountered an internal error. Please try again.")
	case Reset:
		reset(w)
	case Lost:
		// Apply the request for real, then drop the answer.
		rec := httptest.NewRecorder()
		p.fwd.ServeHTTP(rec, r)
		reset(w)
	case BlackHole:
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		select {
		case <-time.After(p.opts.Hold):
		case <-r.Context().Done():
		case <-p.stop:
		}
		conn.Close()
	}
}

// reset closes the client's connection with a TCP RST.
func reset(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	conn.Close()
}

var credScope = regexp.MustCompile(`Credential=[^/]+/[^/]+/[^/]+/([^/]+)/`)

// service is the signing name of the request's service ("ec2", "route53").
func service(r *http.Request) string {
	if m := credScope.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		return m[1]
	}
	return ""
}

// writeError answers the way the request's AWS protocol shapes errors, so
// the SDK classifies a throttle as a throttle.
func writeError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	_, _ = io.Copy(io.Discard, r.Body)
	h := w.Header()
	h.Set("X-Amzn-Requestid", "faultproxy")
	switch {
	case r.Header.Get("X-Amz-Target") != "":
		// JSON protocols (DynamoDB).
		jcode := code
		if code == "Throttling" {
			jcode = "ThrottlingException"
		}
		h.Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"__type":"com.amazonaws.dynamodb.v20120810#%s","message":%q}`, jcode, msg)
	case service(r) == "ec2":
		// EC2's query dialect has its own error shape and throttle code.
		if code == "Throttling" {
			code = "RequestLimitExceeded"
		}
		h.Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>faultproxy</RequestID></Response>`, code, msg)
	case r.Header.Get("Smithy-Protocol") != "":
		// RPC v2 CBOR: answer with a status the SDK retries.
		if status == http.StatusBadRequest {
			status = http.StatusTooManyRequests
		}
		w.WriteHeader(status)
	default:
		// Query (Auto Scaling, EC2, ELBv2, CloudWatch) and REST-XML
		// (Route53) share this shape.
		h.Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		var b bytes.Buffer
		fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?><ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>faultproxy</RequestId></ErrorResponse>`, code, msg)
		_, _ = w.Write(b.Bytes())
	}
}
