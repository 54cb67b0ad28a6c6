package host

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHTTPCheck(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/health":
			w.Header().Set("X-Colour", "green")
			w.Header().Add("X-Multi", "a")
			w.Header().Add("X-Multi", "b")
			fmt.Fprint(w, "ok green")
		case "/echo":
			fmt.Fprintf(w, "%s host=%s token=%s", r.Method, r.Host, r.Header.Get("X-Token"))
		case "/down":
			http.Error(w, "draining", http.StatusServiceUnavailable)
		case "/moved":
			http.Redirect(w, r, "/health", http.StatusFound)
		case "/big":
			fmt.Fprint(w, strings.Repeat("x", 3*outputLimit))
		case "/big-marker":
			// The marker sits in the part of the body the output drops,
			// split across writes.
			fmt.Fprint(w, strings.Repeat("x", outputLimit)+"release ")
			w.(http.Flusher).Flush()
			fmt.Fprint(w, "43"+strings.Repeat("y", outputLimit))
		}
	}))
	defer srv.Close()

	tests := []struct {
		name       string
		params     map[string]any
		wantStatus int
		wantBody   string // substring
		wantErr    string // substring; "" means success
		check      func(t *testing.T, out map[string]any)
	}{
		{name: "ok", params: map[string]any{"url": srv.URL + "/health"}, wantStatus: 200, wantBody: "ok green",
			check: func(t *testing.T, out map[string]any) {
				h := out["headers"].(map[string]any)
				if h["X-Colour"] != "green" || h["X-Multi"] != "a, b" {
					t.Errorf("headers = %v", h)
				}
				if out["ok"] != true {
					t.Errorf("ok = %v", out["ok"])
				}
				if _, isFloat := out["latency_ms"].(float64); !isFloat {
					t.Errorf("latency_ms has type %T, want float64", out["latency_ms"])
				}
			}},
		{name: "method and headers", params: map[string]any{"url": srv.URL + "/echo", "method": "POST",
			"headers": map[string]any{"Host": "app.example.com", "X-Token": "s3"}}, wantStatus: 200, wantBody: "POST host=app.example.com token=s3"},
		{name: "unexpected status names url and status", params: map[string]any{"url": srv.URL + "/down"},
			wantStatus: 503, wantBody: "draining", wantErr: "GET " + srv.URL + "/down returned status 503, expected 200"},
		{name: "expected body found", params: map[string]any{"url": srv.URL + "/echo", "headers": map[string]any{"X-Token": "preview"}, "expect_body": "token=preview"},
			wantStatus: 200, wantBody: "token=preview"},
		{name: "expected body found beyond the kept output", params: map[string]any{"url": srv.URL + "/big-marker", "expect_body": "release 43"}, wantStatus: 200},
		{name: "expected body missing", params: map[string]any{"url": srv.URL + "/health", "expect_body": "blue"},
			wantStatus: 200, wantErr: `the body does not contain "blue" (param expect_body); it begins "ok green"`,
			check: func(t *testing.T, out map[string]any) {
				if out["ok"] != false {
					t.Errorf("ok = %v with the body missing its text", out["ok"])
				}
			}},
		{name: "expected non-200", params: map[string]any{"url": srv.URL + "/down", "expect_status": 503}, wantStatus: 503},
		{name: "redirect not followed", params: map[string]any{"url": srv.URL + "/moved", "expect_status": 302}, wantStatus: 302},
		{name: "body bounded", params: map[string]any{"url": srv.URL + "/big"}, wantStatus: 200, wantBody: "bytes truncated",
			check: func(t *testing.T, out map[string]any) {
				if n := len(out["body"].(string)); n > outputLimit+100 {
					t.Errorf("body has %d bytes", n)
				}
			}},
		{name: "not a url", params: map[string]any{"url": "127.0.0.1:80/health"}, wantErr: `param "url": expected an http or https URL`},
		{name: "password never shown", params: map[string]any{"url": "http://user:hunter2@" + closedAddr(t) + "/health"},
			wantErr: "user:xxxxx@"},
		{name: "connection refused", params: map[string]any{"url": "http://" + closedAddr(t) + "/health"}, wantErr: "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := run(t, "host.http-check", tt.params, nil)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error leaks the password: %v", err)
			}
			if tt.wantStatus == 0 {
				return
			}
			if out["status"] != tt.wantStatus {
				t.Errorf("status = %v, want %d", out["status"], tt.wantStatus)
			}
			if out["ok"] != (err == nil) {
				t.Errorf("ok = %v with error %v", out["ok"], err)
			}
			if !strings.Contains(out["body"].(string), tt.wantBody) {
				t.Errorf("body = %.100q, want it to contain %q", out["body"], tt.wantBody)
			}
			if tt.check != nil {
				tt.check(t, out)
			}
		})
	}
}

// closedAddr returns a loopback address on which nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
