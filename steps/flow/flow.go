// Package flow holds the steps that shape a run rather than touch a system:
// waiting (flow.pause), writing to the log (flow.log), stopping on purpose
// (flow.fail), checking a condition over earlier outputs (flow.assert) and
// waiting for a person's go-ahead (flow.approval).
//
// Every step registers itself from init by its dotted kind; cmd/bluegreen
// imports this package for that side effect only. None of them mutates
// anything a rollback would have to restore.
package flow
