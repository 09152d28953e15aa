package flow

import "time"

// Outcomes of tasks and flows, as observers receive them.
const (
	// Success: a task's Execute, or a whole flow, succeeded.
	Success = "success"
	// Failure: a task's Execute failed.
	Failure = "failure"
	// Reverted: a task's Revert succeeded, or a failed flow was wholly reverted.
	Reverted = "reverted"
	// RevertFailed: a task's Revert failed, or a flow ended with a revert that failed.
	RevertFailed = "revert-failed"
)

// Recovery actions, as observers receive them.
const (
	// Resumed: recovery ran the flow forward from where it stopped.
	Resumed = "resumed"
	// Rolledback: recovery reverted what the flow had done.
	Rolledback = "reverted"
)

// Observer is told of every flow and task. Its arguments are plain values so that an observer
// (such as the metrics package) need not import this package.
type Observer interface {
	FlowStarted(flow, id string)
	// TaskStarted reports an Execute, or a Revert when revert is true.
	TaskStarted(flow, id, task string, revert bool)
	// TaskEnded reports the outcome (Success or Failure for an Execute, Reverted or
	// RevertFailed for a Revert) and its duration.
	TaskEnded(flow, id, task, outcome string, took time.Duration)
	// FlowEnded reports Success, Reverted or RevertFailed and the flow's duration.
	FlowEnded(flow, id, outcome string, took time.Duration)
	// FlowRecovered reports that recovery Resumed or Rolledback an unfinished flow.
	FlowRecovered(flow, id, action string)
}
