package awstest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Counter is a loopback reverse proxy in front of moto that counts the AWS
// API calls passing through it by service and operation. Pointing
// AWS_ENDPOINT_URL at it counts every call a process makes, retries
// included, without touching the code under test.
type Counter struct {
	// URL is the proxy's endpoint.
	URL string

	srv    *httptest.Server
	mu     sync.Mutex
	counts map[string]int
	hooks  map[int]*hook
	nextID int
}

// hook is a test's function run around the calls passing through.
type hook struct {
	after bool
	fn    func(op string, form url.Values)
}

type callKey struct{}

// call is what the proxy learnt about a request, kept for its answer.
type call struct {
	op   string
	form url.Values
}

// NewCounter starts a counting proxy to target.
func NewCounter(target string) *Counter {
	u, err := url.Parse(target)
	if err != nil {
		panic("awstest: bad target " + target)
	}
	c := &Counter{counts: map[string]int{}, hooks: map[int]*hook{}}
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.ModifyResponse = func(resp *http.Response) error {
		if cl, ok := resp.Request.Context().Value(callKey{}).(*call); ok {
			c.run(true, cl)
		}
		return nil
	}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cl := c.count(r)
		c.run(false, cl)
		proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callKey{}, cl)))
	}))
	c.URL = c.srv.URL
	return c
}

// Close stops the proxy.
func (c *Counter) Close() { c.srv.Close() }

var (
	credScope = regexp.MustCompile(`Credential=[^/]+/[^/]+/[^/]+/([^/]+)/`)
	rpcv2Path = regexp.MustCompile(`/service/[^/]+/operation/([A-Za-z]+)`)
)

// Before registers fn to run for every call before it reaches moto, and
// After for every call moto has answered, before the answer reaches the
// caller: a test injects a fault at an exact moment (instances that stop
// right after a group was scaled up). fn gets the operation and, for the
// query protocols, the request's form. Each returns the function that
// removes the hook.
func (c *Counter) Before(fn func(op string, form url.Values)) func() { return c.add(false, fn) }

// After: see Before.
func (c *Counter) After(fn func(op string, form url.Values)) func() { return c.add(true, fn) }

func (c *Counter) add(after bool, fn func(string, url.Values)) func() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nextID++
	id := c.nextID
	c.hooks[id] = &hook{after: after, fn: fn}
	return func() {
		c.mu.Lock()
		delete(c.hooks, id)
		c.mu.Unlock()
	}
}

func (c *Counter) run(after bool, cl *call) {
	c.mu.Lock()
	var fns []func(string, url.Values)
	for _, h := range c.hooks {
		if h.after == after {
			fns = append(fns, h.fn)
		}
	}
	c.mu.Unlock()
	for _, fn := range fns {
		fn(cl.op, cl.form)
	}
}

func (c *Counter) count(r *http.Request) *call {
	var form url.Values
	svc := "unknown"
	if m := credScope.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		svc = m[1]
	}
	op := ""
	switch {
	case r.Header.Get("X-Amz-Target") != "":
		// JSON protocols (DynamoDB): "DynamoDB_20120810.PutItem".
		t := r.Header.Get("X-Amz-Target")
		op = t[strings.LastIndex(t, ".")+1:]
	case rpcv2Path.MatchString(r.URL.Path):
		// Smithy RPC v2 CBOR (CloudWatch).
		op = rpcv2Path.FindStringSubmatch(r.URL.Path)[1]
	case r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		// Query protocols (Auto Scaling, EC2, ELBv2) name the action in the form body.
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if v, err := url.ParseQuery(string(body)); err == nil {
			op, form = v.Get("Action"), v
		}
	default:
		op = restOperation(r)
	}
	c.mu.Lock()
	c.counts[svc+":"+op]++
	c.mu.Unlock()
	return &call{op: op, form: form}
}

// restOperation names the Route53 REST calls the steps make.
func restOperation(r *http.Request) string {
	p := r.URL.Path
	switch {
	case strings.HasSuffix(p, "/rrset") && r.Method == http.MethodGet:
		return "ListResourceRecordSets"
	case strings.HasSuffix(p, "/rrset") || strings.HasSuffix(p, "/rrset/"):
		return "ChangeResourceRecordSets"
	case strings.Contains(p, "/change/"):
		return "GetChange"
	case strings.HasSuffix(p, "/status") && strings.Contains(p, "/healthcheck/"):
		return "GetHealthCheckStatus"
	}
	return r.Method + " " + p
}

// Total returns the number of calls counted.
func (c *Counter) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.counts {
		n += v
	}
	return n
}

// Counts returns the calls by "service:Operation".
func (c *Counter) Counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.counts))
	for k, v := range c.counts {
		out[k] = v
	}
	return out
}

// Reset forgets the counts.
func (c *Counter) Reset() {
	c.mu.Lock()
	c.counts = map[string]int{}
	c.mu.Unlock()
}

// String lists the counts sorted by call, one per line.
func (c *Counter) String() string {
	counts := c.Counts()
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteString(" ")
		b.WriteString(strings.Repeat(" ", max(0, 50-len(k))))
		b.WriteString(strconv.Itoa(counts[k]))
		b.WriteString("\n")
	}
	return b.String()
}
