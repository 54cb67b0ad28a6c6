// Package runbooks holds the shipped example runbooks, one per strategy,
// and embeds them, so that the binary can build an Octopus deployment
// process for a strategy (`bluegreen octopus process`) without the source
// tree.
package runbooks

import "embed"

// FS holds weighted-dns.yaml, alb-weighted.yaml, same-host.yaml and
// env-swap.yaml.
//
//go:embed *.yaml
var FS embed.FS
