package faultproxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestEachFault(t *testing.T) {
	var applied atomic.Int32
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		applied.Add(1)
		io.WriteString(w, "ok")
	}))
	defer backend.Close()
	client := &http.Client{Timeout: 500 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
	for _, tc := range []struct {
		rates   Rates
		fault   Fault
		status  int // 0: the request fails at the transport
		applied int32
		body    string
	}{
		{Rates{}, Pass, 200, 1, "ok"},
		{Rates{Throttle: 1}, Throttle, 400, 0, "<Code>Throttling</Code>"},
		{Rates{Server500: 1}, Server500, 500, 0, "InternalFailure"},
		{Rates{Reset: 1}, Reset, 0, 0, ""},
		{Rates{Lost: 1}, Lost, 0, 1, ""},
		{Rates{BlackHole: 1}, BlackHole, 0, 0, ""},
	} {
		t.Run(string(tc.fault), func(t *testing.T) {
			applied.Store(0)
			p, err := New(backend.URL, Options{Seed: 1, Rates: tc.rates, Hold: 2 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			resp, err := client.Post(p.URL, "application/x-www-form-urlencoded", strings.NewReader("Action=X"))
			switch {
			case tc.status == 0 && err == nil:
				t.Fatalf("got an answer %d, want a transport failure", resp.StatusCode)
			case tc.status != 0 && err != nil:
				t.Fatal(err)
			case tc.status != 0:
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.body) {
					t.Fatalf("answer %d %s, want %d with %q", resp.StatusCode, b, tc.status, tc.body)
				}
			}
			if got := applied.Load(); got != tc.applied {
				t.Fatalf("the backend saw %d requests, want %d", got, tc.applied)
			}
			if c := p.Counts(); c[tc.fault] != 1 {
				t.Fatalf("counts %v, want one %s", c, tc.fault)
			}
		})
	}
}

func TestRatesAndSeed(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer backend.Close()
	if _, err := New(backend.URL, Options{Rates: Rates{Throttle: 0.7, Server500: 0.5}}); err == nil {
		t.Fatal("rates over 1 accepted")
	}
	draw := func() string {
		p, _ := New(backend.URL, Options{Seed: 42, Rates: Rates{Throttle: 0.3, Server500: 0.2}})
		defer p.Close()
		var fates []string
		for i := 0; i < 200; i++ {
			fates = append(fates, string(p.fate(httptest.NewRequest("POST", "/", nil))))
		}
		c := p.Counts()
		if c[Throttle] < 40 || c[Throttle] > 80 || c[Server500] < 20 || c[Server500] > 60 {
			t.Errorf("200 draws at 30%%/20%%: %v", c)
		}
		return strings.Join(fates, ",")
	}
	if draw() != draw() {
		t.Fatal("the same seed drew different fates")
	}
}
