package octopus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/OctopusDeploy/go-octopusdeploy/v2/pkg/client"
	"github.com/OctopusDeploy/go-octopusdeploy/v2/pkg/core"
	"github.com/OctopusDeploy/go-octopusdeploy/v2/pkg/newclient"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// The environment variables the connection comes from, named as the
// official Octopus CLI names them.
const (
	EnvURL    = "OCTOPUS_URL"
	EnvAPIKey = "OCTOPUS_API_KEY"
	EnvSpace  = "OCTOPUS_SPACE"
)

// Errors a connection can fail with; match them with errors.Is. ErrConfig,
// ErrBadURL and ErrSpaceNotFound are configuration errors (they also match
// steps.ErrConfig), which the CLI maps to "invalid input"; the others are a
// failed run.
var (
	// ErrConfig: the URL or the API key is missing, or the key is not
	// shaped like one (API-...).
	ErrConfig = steps.NewConfigError("octopus connection is not configured")
	// ErrBadURL: the URL does not parse, is not http(s), or does not lead
	// to an Octopus server.
	ErrBadURL = steps.NewConfigError("bad octopus server url")
	// ErrUnreachable: no answer from the server (DNS, TCP, TLS).
	ErrUnreachable = errors.New("octopus server unreachable")
	// ErrUnauthorized: the server rejected the API key (401 or 403).
	ErrUnauthorized = errors.New("octopus api key rejected")
	// ErrSpaceNotFound: no space has the given name or id.
	ErrSpaceNotFound = steps.NewConfigError("octopus space not found")
)

var apiKeyRe = regexp.MustCompile(`^API-[A-Z0-9]+$`)

// Config says how to reach a server. Empty fields fall back to the
// environment (ConfigFromEnv) in the CLI and the steps.
type Config struct {
	URL    string
	APIKey string
	// Space is a space name or id; empty means the server's default space.
	Space string
	// HTTPClient is used for every call; nil means a client with a 60s
	// timeout and Go's default TLS verification (certificates are always
	// verified: bluegreen has no switch to turn that off).
	HTTPClient *http.Client
}

// ConfigFromEnv reads OCTOPUS_URL, OCTOPUS_API_KEY and OCTOPUS_SPACE.
func ConfigFromEnv() Config {
	return Config{URL: os.Getenv(EnvURL), APIKey: os.Getenv(EnvAPIKey), Space: os.Getenv(EnvSpace)}
}

// Override returns c with every non-empty argument replacing its field;
// flags and step params override the environment this way.
func (c Config) Override(url, apiKey, space string) Config {
	if url != "" {
		c.URL = url
	}
	if apiKey != "" {
		c.APIKey = apiKey
	}
	if space != "" {
		c.Space = space
	}
	return c
}

// Client is a connection to one space of one server.
type Client struct {
	// API is the go-octopusdeploy client, bound to SpaceID.
	API       newclient.Client
	SpaceID   string
	SpaceName string
	// ServerVersion is the server's version from its root document.
	ServerVersion string
	base          *url.URL
	// memo holds the connection's lookups by name (lookups.go).
	memo *lookups
	// ctx is the context the client is bound to (Connect's, then
	// WithContext's): Remember's wait for another caller ends with it.
	ctx context.Context
}

// Connect checks the configuration, asks the server who it is, resolves
// the space by id or name and returns a client bound to it. Each failure
// has its own error (ErrConfig, ErrBadURL, ErrUnreachable, ErrUnauthorized,
// ErrSpaceNotFound) with a message that says what to fix; the API key
// never appears in any of them.
func Connect(ctx context.Context, cfg Config) (*Client, error) {
	if strings.TrimSpace(cfg.URL) == "" {
		return nil, fmt.Errorf("%w: set %s or --server to the server's URL", ErrConfig, EnvURL)
	}
	u, err := url.Parse(strings.TrimSpace(cfg.URL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: %q is not an http(s) URL such as https://octopus.example.com", ErrBadURL, cfg.URL)
	}
	if cfg.APIKey == "" {
		return nil, fmt.Errorf("%w: set %s or --api-key", ErrConfig, EnvAPIKey)
	}
	if !apiKeyRe.MatchString(cfg.APIKey) {
		return nil, fmt.Errorf("%w: the API key does not look like API-XXXX (upper-case letters and digits)", ErrConfig)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	hc = wrapHTTPClient(hc) // ctxclient.go: contexts and a scrubbed key
	u.Path = strings.TrimSuffix(u.Path, "/")
	c := &Client{base: u, memo: newLookups(), ctx: ctx}

	var root struct {
		Application string
		Version     string
	}
	if err := c.preflight(ctx, hc, cfg.APIKey, "/api", &root); err != nil {
		return nil, err
	}
	if root.Application == "" && root.Version == "" {
		return nil, fmt.Errorf("%w: %s/api does not answer like an Octopus server", ErrBadURL, u)
	}
	c.ServerVersion = root.Version

	var spaces []struct {
		ID        string `json:"Id"`
		Name      string
		IsDefault bool
	}
	if err := c.preflight(ctx, hc, cfg.APIKey, "/api/spaces/all", &spaces); err != nil {
		return nil, err
	}
	var names []string
	for _, s := range spaces {
		names = append(names, s.Name)
		if (cfg.Space == "" && s.IsDefault) || (cfg.Space != "" && (s.ID == cfg.Space || strings.EqualFold(s.Name, cfg.Space))) {
			c.SpaceID, c.SpaceName = s.ID, s.Name
			break
		}
	}
	if c.SpaceID == "" {
		if cfg.Space == "" {
			return nil, fmt.Errorf("%w: the server has no default space; set %s (spaces: %s)", ErrSpaceNotFound, EnvSpace, strings.Join(names, ", "))
		}
		return nil, fmt.Errorf("%w: no space named or with id %q (spaces: %s)", ErrSpaceNotFound, cfg.Space, strings.Join(names, ", "))
	}
	apiURL := *u // NewClient appends a slash to the path of the URL it is given
	api, err := client.NewClient(withContextHTTP(hc, ctx), &apiURL, cfg.APIKey, c.SpaceID)
	if err != nil {
		return nil, fmt.Errorf("connect to octopus space %s: %w", c.SpaceID, err)
	}
	c.API = bindAPI(api, ctx)
	return c, nil
}

// preflight GETs path with the key and decodes the JSON answer, turning
// transport and HTTP failures into the connection errors.
func (c *Client) preflight(ctx context.Context, hc *http.Client, key, path string, out any) error {
	target := c.base.String() + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadURL, err)
	}
	req.Header.Set("X-Octopus-ApiKey", key)
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%w: GET %s: %v", ErrUnreachable, target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("%w: GET %s answered %s; check %s", ErrUnauthorized, target, resp.Status, EnvAPIKey)
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%w: GET %s answered 404; is %s the server's root URL?", ErrBadURL, target, c.base)
	case resp.StatusCode >= 300:
		return fmt.Errorf("GET %s: %s: %s", target, resp.Status, apiMessage(body))
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%w: GET %s did not return Octopus JSON: %v", ErrBadURL, target, err)
	}
	return nil
}

func apiMessage(body []byte) string {
	var e core.APIError
	if json.Unmarshal(body, &e) == nil && e.ErrorMessage != "" {
		if len(e.Errors) > 0 {
			return e.ErrorMessage + " (" + strings.Join(e.Errors, "; ") + ")"
		}
		return e.ErrorMessage
	}
	return strings.TrimSpace(string(body))
}

// StatusCode returns the HTTP status of an Octopus API error, or 0.
func StatusCode(err error) int {
	var ae *core.APIError
	if errors.As(err, &ae) {
		return ae.StatusCode
	}
	var av core.APIError
	if errors.As(err, &av) {
		return av.StatusCode
	}
	return 0
}

// Path expands an API path template's {spaceId} for this client's space.
func (c *Client) Path(format string, a ...any) string {
	return "/api/" + c.SpaceID + fmt.Sprintf(format, a...)
}
