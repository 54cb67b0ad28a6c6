package aws

import (
	"context"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// registeringProvider hands every credential the SDK retrieves (from the
// environment, a profile, an instance role, refreshed or not) to
// steps.RegisterCredential before the SDK signs anything with it, so that
// an error text a server or proxy echoes back (a session token travels in
// a header) is scrubbed of it wherever it is reported. The access key id
// is an identifier, not a secret, and stays readable.
type registeringProvider struct{ inner awssdk.CredentialsProvider }

func (p registeringProvider) Retrieve(ctx context.Context) (awssdk.Credentials, error) {
	c, err := p.inner.Retrieve(ctx)
	if err == nil {
		steps.RegisterCredential(c.SecretAccessKey)
		steps.RegisterCredential(c.SessionToken)
	}
	return c, err
}

// registerCredentials wraps a provider (nil stays nil: anonymous).
func registerCredentials(p awssdk.CredentialsProvider) awssdk.CredentialsProvider {
	if p == nil {
		return nil
	}
	return awssdk.NewCredentialsCache(registeringProvider{inner: p})
}
