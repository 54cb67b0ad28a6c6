package state

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// Backend is a store implementation that a --state value can name by its
// URL scheme. Stores register themselves from init, as Caddy's modules do,
// so that this package never names a store it does not implement: the
// DynamoDB store lives in internal/state/dynamostate with the AWS SDK, and
// only a binary that imports it (cmd/bluegreen) links either.
type Backend struct {
	// Scheme is the URL scheme, in lower case ("dynamodb").
	Scheme string
	// Usage is the form of the value shown in errors ("dynamodb://TABLE").
	Usage string
	// Open builds the store on what follows "scheme://". It must not do
	// I/O (stores connect on first use): Open has no context to cancel.
	// Its error is prefixed with the --state value.
	Open func(location string) (Store, error)
}

var (
	schemeRe = regexp.MustCompile(`^([a-zA-Z][a-zA-Z0-9+.-]*)://(.*)$`)
	lowerRe  = regexp.MustCompile(`^[a-z][a-z0-9+.-]*$`)

	backendsMu sync.RWMutex
	// backends is kept in registration order, which is init order: the
	// file store (this package) comes first in the list errors show.
	backends []Backend
)

// Register makes Open accept b.Scheme. It panics when the backend is
// incomplete or its scheme is taken: both are programming errors that
// every run of the binary would hit at start.
func Register(b Backend) {
	if !lowerRe.MatchString(b.Scheme) || b.Usage == "" || b.Open == nil {
		panic(fmt.Sprintf("state: backend %q needs a lower-case scheme, a usage and an Open function", b.Scheme))
	}
	backendsMu.Lock()
	defer backendsMu.Unlock()
	for _, have := range backends {
		if have.Scheme == b.Scheme {
			panic(fmt.Sprintf("state: backend %q registered twice", b.Scheme))
		}
	}
	backends = append(backends, b)
}

func init() {
	Register(Backend{Scheme: "file", Usage: "file://DIR", Open: func(dir string) (Store, error) {
		if dir == "" {
			return nil, errors.New("the directory is missing (file://DIR)")
		}
		return NewFileStore(dir)
	}})
}

// Open returns the store a --state value names:
//
//	""                  a file store in defaultDir (.bluegreen/ beside the runbook)
//	DIR or file://DIR   a file store in DIR
//	SCHEME://LOCATION   the store registered for SCHEME (dynamodb://TABLE
//	                    when internal/state/dynamostate is linked in)
//
// It creates nothing; the stores connect or write on first use.
func Open(spec string, defaultDir string) (Store, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return NewFileStore(defaultDir)
	}
	m := schemeRe.FindStringSubmatch(spec)
	if m == nil {
		return NewFileStore(spec)
	}
	scheme, rest := strings.ToLower(m[1]), m[2]
	backendsMu.RLock()
	forms := []string{"a directory"}
	var found Backend
	for _, b := range backends {
		forms = append(forms, b.Usage)
		if b.Scheme == scheme {
			found = b
		}
	}
	backendsMu.RUnlock()
	if found.Open == nil {
		return nil, fmt.Errorf("state %q: unknown backend %q (expected %s)", spec, scheme, orList(forms))
	}
	st, err := found.Open(rest)
	if err != nil {
		return nil, fmt.Errorf("state %q: %w", spec, err)
	}
	return st, nil
}

// orList joins items (at least one) as "a, b or c".
func orList(items []string) string {
	if len(items) == 1 {
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}
