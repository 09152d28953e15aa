package metrics

import "time"

// The flow engine's Observer (host/flow), with plain arguments so that this package imports
// nothing of Kiln's. Flow IDs are never labels.

// FlowStarted is part of the Observer; a start has no series of its own.
func (m *Metrics) FlowStarted(flow, id string) {}

// TaskStarted is part of the Observer; a start has no series of its own.
func (m *Metrics) TaskStarted(flow, id, task string, revert bool) {}

// TaskEnded records a task's execute or revert.
func (m *Metrics) TaskEnded(flow, id, task, outcome string, took time.Duration) {
	m.taskDuration.WithLabelValues(flow, task, outcome).Observe(took.Seconds())
	m.tasks.WithLabelValues(flow, task, outcome).Inc()
}

// FlowEnded records a whole flow.
func (m *Metrics) FlowEnded(flow, id, outcome string, took time.Duration) {
	m.flowDuration.WithLabelValues(flow, outcome).Observe(took.Seconds())
	m.flows.WithLabelValues(flow, outcome).Inc()
}

// FlowRecovered counts a flow that recovery resumed or reverted.
func (m *Metrics) FlowRecovered(flow, id, action string) {
	m.recovered.WithLabelValues(flow, action).Inc()
}
