// Package archtest holds tests of the module's shape rather than its
// behaviour: which packages may import which. They read the import graph
// from `go list`, so they check the code as it builds, not as documented.
package archtest
