package octopus

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"

	"github.com/OctopusDeploy/go-octopusdeploy/v2/pkg/newclient"
	"github.com/OctopusDeploy/go-octopusdeploy/v2/uritemplates"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// go-octopusdeploy's API takes no context: a call runs until the HTTP
// client's timeout whatever the caller's deadline, so a hung server held a
// gate (and the traffic it guards) for a minute per poll. Every request
// now goes through a transport that gives it the caller's context: a
// Client is bound to the context it was connected with, and WithContext
// binds a cached client to a step's context. Each call is then bounded by
// the smaller of the client's per-call timeout and what is left of the
// caller's step or gate.
//
// The same transport keeps the API key out of error texts: a server (or
// a proxy before it) whose error page echoes the request's headers would
// otherwise put the key into the client's error, and from there into logs,
// reports and the state. The key is also registered as a credential, so
// everything the executor reports is scrubbed of it.

// wrapHTTPClient returns a copy of hc whose requests scrub the API key
// from error responses.
func wrapHTTPClient(hc *http.Client) *http.Client {
	out := *hc
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	out.Transport = &scrubTransport{base: base}
	return &out
}

// maxErrorBody bounds how much of an error response is read to scrub it.
const maxErrorBody = 1 << 20

type scrubTransport struct{ base http.RoundTripper }

func (t *scrubTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	key := req.Header.Get("X-Octopus-ApiKey")
	steps.RegisterCredential(key)
	resp, err := t.base.RoundTrip(req)
	if err != nil || key == "" || resp.StatusCode < 400 {
		return resp, err
	}
	b, rerr := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	if rerr != nil {
		b = append(b, []byte(" (error body cut: "+rerr.Error()+")")...)
	}
	b = bytes.ReplaceAll(b, []byte(key), []byte(steps.Redaction))
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// ctxTransport makes every request end with the bound context too. The
// request already has a context of its own (http.Client gives it one for
// its Timeout), so the two are merged: the request carries the bound
// context's deadline when that is sooner, and is cancelled when the bound
// context ends (an interrupt).
type ctxTransport struct {
	base http.RoundTripper
	ctx  context.Context
}

func (t *ctxTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	// context.AfterFunc below runs its function in a goroutine of its own,
	// even when the bound context has already ended: without this check a
	// request could reach the server before that goroutine cancels it.
	if err := t.ctx.Err(); err != nil {
		return nil, context.Cause(t.ctx)
	}
	ctx := req.Context()
	var cancelDeadline context.CancelFunc = func() {}
	if d, ok := t.ctx.Deadline(); ok {
		if rd, has := ctx.Deadline(); !has || d.Before(rd) {
			ctx, cancelDeadline = context.WithDeadline(ctx, d)
		}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(t.ctx, func() { cancel(context.Cause(t.ctx)) })
	done := func() { stop(); cancel(nil); cancelDeadline() }
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		done()
		return nil, err
	}
	resp.Body = &closeHook{ReadCloser: resp.Body, fn: done}
	return resp, nil
}

// closeHook runs fn once the body is closed: the merged context must live
// until the body is read.
type closeHook struct {
	io.ReadCloser
	fn   func()
	once sync.Once
}

func (c *closeHook) Close() error {
	err := c.ReadCloser.Close()
	c.once.Do(c.fn)
	return err
}

// boundAPI is the go client bound to a context: the same session (base
// URL, headers, URI templates) over an HTTP client whose transport adds
// the context.
type boundAPI struct {
	base    newclient.Client
	session *newclient.HttpSession
}

func (b *boundAPI) HttpSession() *newclient.HttpSession { return b.session }
func (b *boundAPI) URITemplateCache() *uritemplates.URITemplateCache {
	return b.base.URITemplateCache()
}
func (b *boundAPI) GetSpaceID() string { return b.base.GetSpaceID() }

// bindAPI returns api bound to ctx.
func bindAPI(api newclient.Client, ctx context.Context) newclient.Client {
	if b, ok := api.(*boundAPI); ok {
		api = b.base
	}
	s := api.HttpSession()
	hc := *s.HttpClient
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	// The go client keeps the HTTP client it was created with, whose
	// transport is bound to Connect's context: binding must replace that
	// context, not add to it, or every later call of a cached client ends
	// with the first caller's context.
	if ct, ok := base.(*ctxTransport); ok {
		base = ct.base
	}
	hc.Transport = &ctxTransport{base: base, ctx: ctx}
	session := *s
	session.HttpClient = &hc
	return &boundAPI{base: api, session: &session}
}

// WithContext returns a copy of c whose calls run under ctx: they fail
// when ctx ends (a step's timeout, a gate's deadline, an interrupt).
// Cached clients are shared between steps; each step binds its own.
func (c *Client) WithContext(ctx context.Context) *Client {
	if c.API == nil {
		return c
	}
	out := *c
	out.API = bindAPI(c.API, ctx)
	out.ctx = ctx
	return &out
}

// withContextHTTP returns hc with every request given ctx, for the calls
// the go client makes while it is created.
func withContextHTTP(hc *http.Client, ctx context.Context) *http.Client {
	out := *hc
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	out.Transport = &ctxTransport{base: base, ctx: ctx}
	return &out
}
