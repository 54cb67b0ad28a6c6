// Package publish writes bluegreen onto an Octopus server through the API
// client of package octopus: it keeps the generated step templates in sync
// (Sync), builds and uploads the bluegreen package to the built-in feed
// (BuildPackage, PushPackage) and writes a project's deployment process for
// a strategy (UpdateProcess). Every write sends back the fields bluegreen
// does not own exactly as the server sent them.
package publish
