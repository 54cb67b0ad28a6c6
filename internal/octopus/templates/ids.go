package templates

import (
	"crypto/sha1"
	"fmt"
)

// idNamespace is the UUID namespace of every id bluegreen derives. It was
// chosen at random once and must never change: template and parameter ids
// are what Octopus and the Library use to recognise a template across
// exports.
var idNamespace = [16]byte{0x3b, 0x8e, 0x5a, 0x52, 0x7c, 0x41, 0x4f, 0x0d, 0x9a, 0x63, 0x1e, 0x2f, 0xd4, 0x70, 0xb8, 0x15}

// stableID returns a name-based (version 5, SHA-1) UUID of name in
// bluegreen's namespace, as RFC 9562 section 5.5 defines it. The same name
// always gives the same id, so ids survive every re-export.
func stableID(name string) string {
	h := sha1.New()
	h.Write(idNamespace[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
