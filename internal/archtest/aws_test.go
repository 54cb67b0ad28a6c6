package archtest

import (
	"reflect"
	"strings"
	"testing"
)

func isAWS(p string) bool { return strings.HasPrefix(p, "github.com/aws/") }

// TestEngineDoesNotLinkAWS: the engine and the state package link no AWS
// SDK package, through any path (a state store, internal/awsretry,
// steps/aws). The AWS code comes in only with the packages that need it
// (steps/aws, internal/state/dynamostate), which cmd/bluegreen imports.
func TestEngineDoesNotLinkAWS(t *testing.T) {
	g := loadGraph(t)
	for _, root := range []string{"internal/engine", "internal/state", "steps"} {
		if chain := g.pathTo(module+"/"+root, isAWS); chain != nil {
			t.Errorf("%s links the AWS SDK: %s", root, strings.Join(chain, " -> "))
		}
	}
	// The check sees AWS where it is, so a clean result above means
	// something: the DynamoDB store and the binary do link it.
	for _, root := range []string{"internal/state/dynamostate", "cmd/bluegreen"} {
		if g.pathTo(module+"/"+root, isAWS) == nil {
			t.Errorf("%s links no AWS SDK package; the import graph is not what this test expects", root)
		}
	}
}

func TestPathTo(t *testing.T) {
	g := graph{"a": {"b", "c"}, "b": {"d"}, "c": {"github.com/aws/x"}, "d": {"github.com/aws/y"}}
	if got, want := g.pathTo("a", isAWS), []string{"a", "c", "github.com/aws/x"}; !reflect.DeepEqual(got, want) {
		t.Errorf("pathTo(a) = %v; want the shortest chain %v", got, want)
	}
	if got := g.pathTo("b", func(p string) bool { return p == "c" }); got != nil {
		t.Errorf("pathTo(b, c) = %v; want nil (b does not reach c)", got)
	}
}
