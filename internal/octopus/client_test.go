package octopus_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/octopus"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus/octopustest"
)

func TestConnectErrors(t *testing.T) {
	srv := octopustest.New(t)
	srv.AddSpace("Staging")
	tests := []struct {
		name string
		cfg  octopus.Config
		want error
		msg  string
	}{
		{"no url", octopus.Config{APIKey: srv.APIKey}, octopus.ErrConfig, "OCTOPUS_URL"},
		{"bad url", octopus.Config{URL: "octopus.example.com", APIKey: srv.APIKey}, octopus.ErrBadURL, "not an http(s) URL"},
		{"no key", octopus.Config{URL: srv.URL}, octopus.ErrConfig, "OCTOPUS_API_KEY"},
		{"malformed key", octopus.Config{URL: srv.URL, APIKey: "secret"}, octopus.ErrConfig, "API-XXXX"},
		{"rejected key", octopus.Config{URL: srv.URL, APIKey: "API-WRONG1"}, octopus.ErrUnauthorized, "401"},
		{"missing space", octopus.Config{URL: srv.URL, APIKey: srv.APIKey, Space: "Prod"}, octopus.ErrSpaceNotFound, "Default, Staging"},
		{"not octopus", octopus.Config{URL: srv.URL + "/nothing", APIKey: srv.APIKey}, octopus.ErrBadURL, "404"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := octopus.Connect(context.Background(), tt.cfg)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("got %v, want %v mentioning %q", err, tt.want, tt.msg)
			}
			if strings.Contains(err.Error(), "API-WRONG1") || strings.Contains(err.Error(), srv.APIKey) {
				t.Errorf("error leaks the API key: %v", err)
			}
		})
	}
	for _, space := range []string{"Staging", "staging", "Spaces-2"} {
		c, err := octopus.Connect(context.Background(), octopus.Config{URL: srv.URL, APIKey: srv.APIKey, Space: space})
		if err != nil || c.SpaceID != "Spaces-2" {
			t.Errorf("space %q: %v %+v", space, err, c)
		}
	}
	c := srv.Connect(t)
	if c.SpaceID != octopustest.DefaultSpaceID || c.SpaceName != "Default" {
		t.Errorf("default space: %s %s", c.SpaceID, c.SpaceName)
	}
	srv.Close()
	if _, err := octopus.Connect(context.Background(), octopus.Config{URL: srv.URL, APIKey: srv.APIKey}); !errors.Is(err, octopus.ErrUnreachable) {
		t.Errorf("closed server: %v", err)
	}
}
