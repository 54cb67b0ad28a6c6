// Package octopus connects bluegreen to Octopus Deploy: it turns the step
// registry into step templates in the Octopus Library's JSON format, keeps
// those templates in sync on a server, pushes the bluegreen binary to the
// built-in package feed, wraps the go-octopusdeploy client for the
// steps/octopus provider, and writes the service messages (output
// variables, artifacts, warnings) that Octopus reads from a step's stdout.
//
// The template file format has its own structs (Template, Parameter,
// PackageRef) because go-octopusdeploy's ActionTemplate drops fields the
// Library needs ($Meta, Category, StepPackageId) and cannot decode every
// value the Library holds; sync maps between the two.
package octopus
