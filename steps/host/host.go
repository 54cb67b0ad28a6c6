// Package host holds the steps that act on the machine bluegreen runs on:
// running a command, checking an HTTP endpoint, and the same-host strategy's
// switches and checks (a symlink or an nginx upstream that chooses the live
// copy, a port that must be listening or free, drift and identity checks
// between the two copies).
//
// Every step registers itself from init by its dotted kind; cmd/bluegreen
// imports this package for that side effect only.
package host

// outputLimit bounds every text output (command output, response bodies):
// outputs travel through the journal, the event stream and Octopus service
// messages, so one chatty command must not be able to bloat them.
const outputLimit = 64 << 10
