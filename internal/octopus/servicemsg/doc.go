// Package servicemsg writes the service messages (output variables,
// artifacts, warnings, the result message) that Octopus reads from a
// step's stdout, keeps every other byte printed there from being read as
// one (Stdout), parses them back as Calamari does (Parser, Decode) and
// turns a run's events into them (Reporter, for --octopus-output).
//
// It needs no connection to a server and depends only on package steps.
package servicemsg
