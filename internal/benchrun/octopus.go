package benchrun

import (
	"regexp"
	"strings"

	"github.com/bluegreen-deploy/bluegreen/internal/octopus/octopustest"
)

// octopusID matches the ids in Octopus API paths (Spaces-1, Projects-3,
// variableset-Projects-3, Machines-12), which the per-call tables replace
// by {id} so that one kind of call is one row.
var octopusID = regexp.MustCompile(`^([A-Za-z]+-)+\d+$`)

// OctopusCalls counts Octopus API requests as "octopus:METHOD /path", ids
// replaced by {id} and the query left out.
func OctopusCalls(reqs []octopustest.Request) map[string]int {
	out := map[string]int{}
	for _, r := range reqs {
		p, _, _ := strings.Cut(r.Path, "?")
		parts := strings.Split(p, "/")
		for i, s := range parts {
			if octopusID.MatchString(s) {
				parts[i] = "{id}"
			}
		}
		out["octopus:"+r.Method+"_"+strings.Join(parts, "/")]++
	}
	return out
}
