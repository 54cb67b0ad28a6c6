package steps

import "sync"

// Credentials the process uses (the Octopus API key, the AWS secret key
// and session token) are registered here by the code that loads them, so
// that everything reported is scrubbed of them (engine.SecretWriter and the executor read KnownCredentials): a server's error page
// that echoes the request's headers must not carry the key into a log,
// an error, a report or the state. The set is process-wide because the
// credentials are (they come from the environment).
var credentials struct {
	mu   sync.RWMutex
	list []string
}

// RegisterCredential adds a credential to scrub. Empty values are ignored.
func RegisterCredential(s string) {
	if s == "" {
		return
	}
	credentials.mu.Lock()
	defer credentials.mu.Unlock()
	for _, have := range credentials.list {
		if have == s {
			return
		}
	}
	credentials.list = append(credentials.list, s)
}

// KnownCredentials returns the registered credentials.
func KnownCredentials() []string {
	credentials.mu.RLock()
	defer credentials.mu.RUnlock()
	return append([]string(nil), credentials.list...)
}
