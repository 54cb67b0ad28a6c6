// Package octopus is bluegreen's client for the Octopus Deploy API: it
// connects to one space of a server (connect.go), gives every call the
// caller's context and keeps the API key out of error texts (ctxclient.go),
// and reads and writes resources as the server's own JSON (raw.go), so that
// a write-back changes only the fields bluegreen owns.
//
// The rest of the Octopus side sits in packages below it, each depending
// on this one or on none: servicemsg writes the service messages Octopus
// reads from a step's stdout, templates turns the step registry into step
// templates, and publish puts templates, the bluegreen package and a
// deployment process on a server through this client.
package octopus
