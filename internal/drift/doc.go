// Package drift holds no code, only tests: they fail when a generated file
// that is committed (docs/steps.md) no longer matches what the step
// registry renders, or when cmd/bluegreen does not link in every provider
// package under steps/ (its kinds would then be missing from the binary,
// the schema, the templates and the docs).
package drift
