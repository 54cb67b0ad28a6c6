package awstest

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
)

// serializer is a loopback reverse proxy in front of moto that lets one
// DynamoDB request through at a time.
//
// Real DynamoDB applies a conditional write atomically: of two PutItems
// that both say attribute_not_exists(pk), exactly one succeeds. moto_server
// runs each request on its own thread and checks the condition without a
// lock, so under load both can pass, and a lock race test then sees two
// winners (seen on a loaded CI machine). Serializing DynamoDB requests gives
// the emulator back the guarantee of the real service that the state store
// is built on; every other service passes through concurrently.
type serializer struct {
	srv *httptest.Server
	mu  sync.Mutex
}

func newSerializer(target string) (*serializer, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	s := &serializer{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_") {
			s.mu.Lock()
			defer s.mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	}))
	return s, nil
}

func (s *serializer) URL() string { return s.srv.URL }

func (s *serializer) Close() { s.srv.Close() }
