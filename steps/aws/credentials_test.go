package aws

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// TestCredentialsRegisteredForScrubbing: the secret key and the session
// token the SDK signs with are registered, so that an error echoing them
// is scrubbed everywhere it is reported; the access key id is not.
func TestCredentialsRegisteredForScrubbing(t *testing.T) {
	p := registerCredentials(credentials.NewStaticCredentialsProvider("AKIDREGISTERTEST", "secret-key-registered-1", "session-token-registered-1"))
	if _, err := p.Retrieve(context.Background()); err != nil {
		t.Fatal(err)
	}
	known := steps.KnownCredentials()
	if !slices.Contains(known, "secret-key-registered-1") || !slices.Contains(known, "session-token-registered-1") || slices.Contains(known, "AKIDREGISTERTEST") {
		t.Fatalf("known credentials = %v", known)
	}
}
