package aws

import "time"

// cloudwatchStat matches the statistics GetMetricData accepts in a
// MetricStat: the five plain statistics and the extended ones (percentile
// pNN.NN, trimmed mean tm, winsorized mean wm, trimmed count tc, trimmed
// sum ts, percentile rank PR, each also in the range form such as
// TM(10%:90%)), and IQM.
const cloudwatchStat = `^(SampleCount|Average|Sum|Minimum|Maximum|IQM|` +
	`(p|tm|wm|tc|ts)(100|[0-9]{1,2}(\.[0-9]{1,10})?)|` +
	`(TM|WM|TC|TS|PR)\([0-9.]*%?:[0-9.]*%?\))$`

// cloudwatchPeriods are the periods GetMetricData accepts besides
// multiples of a minute: the high-resolution ones.
var cloudwatchPeriods = []time.Duration{time.Second, 5 * time.Second, 10 * time.Second, 20 * time.Second, 30 * time.Second}
