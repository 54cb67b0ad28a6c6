// Package templates turns the step registry into Octopus step templates in
// the Octopus Library's JSON format (Generate), writes and checks the
// committed templates/ directory (Export, Stale, ValidateLibrary) and holds
// the scripts the templates run.
//
// The template file format has its own structs (Template, Parameter,
// PackageRef) because go-octopusdeploy's ActionTemplate drops fields the
// Library needs ($Meta, Category, StepPackageId) and cannot decode every
// value the Library holds; package publish maps between the two when it
// syncs them to a server. Generation is a pure function of the registry:
// this package never talks to a server.
package templates
