// Package samehost holds the integration tests of runbooks/same-host.yaml:
// the runbook is loaded and run by the real engine against a real nginx
// (or a server that serves a symlinked folder) in front of two copies of
// internal/testapp, while a load generator counts every failed request.
package samehost
