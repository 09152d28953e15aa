// Package flow is Kiln's task-flow engine: Cinder's linear flows (taskflow's linear_flow) with a
// journal, so that no flow is ever left half-done by a crash.
//
// A Flow is a name and an ordered list of Tasks over a typed state S. Run executes the tasks in
// order. When task N fails, N's Revert is called with the failure, then the Reverts of N-1 … 1
// in reverse order, each on a context the caller's cancellation does not cancel, bounded by a
// timeout; then the original error is returned wrapped in a *TaskError naming the task. A
// Revert that fails is recorded (outcome revert-failed) and does not stop the others.
//
// The Journal records the flow's position and its state (as JSON) after every task and before
// every revert, and forgets the flow when it ends cleanly. After a crash, Engine.Recover lists
// what is unfinished and, per flow and task, either resumes forward (where the task that was
// running declares Resume: it is safe to run again) or reverts what was done. Every Revert must
// therefore tolerate being called for a task whose Execute ran partly or not at all, and being
// called again after a crash during a revert.
//
// Observers see every flow and task start and end with its outcome and duration. The package
// imports only the standard library.
package flow
