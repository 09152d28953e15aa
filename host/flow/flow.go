package flow

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Task is one step of a flow. Either function may be nil.
type Task[S any] struct {
	Name string
	// Execute does the step, recording in the state what its Revert needs.
	Execute func(ctx context.Context, s *S) error
	// Revert undoes the step. failure is the error of this task's own Execute when it is the
	// task that failed (ErrInterrupted after a crash), and nil when a later task failed.
	Revert func(ctx context.Context, s *S, failure error) error
	// Resume declares that when the process died while this task was the next to run or was
	// running, recovery may run it again and go on; otherwise recovery reverts the flow.
	Resume bool
	// Outside declares that Execute acts beyond the journal's store (a driver call, another
	// process): the boundary before it is saved, never staged (see Stager), so that recovery
	// knows of every flow that may have acted outside.
	Outside bool
}

// Flow is a named, ordered list of tasks over a state of type S, which must marshal to JSON.
type Flow[S any] struct {
	Name  string
	Tasks []Task[S]
}

// Engine runs flows. Its zero value runs them without a journal or observers.
type Engine struct {
	// Journal records each flow's progress; nil keeps none (and nothing can be recovered).
	Journal Journal
	// Observers are told of every flow and task.
	Observers []Observer
	// RevertTimeout bounds each Revert; 0 means one minute.
	RevertTimeout time.Duration
}

// ErrInterrupted is the failure a Revert receives for the task that was running when the
// process died.
var ErrInterrupted = errors.New("flow: interrupted by a crash")

// TaskError is the error Run returns: the task whose failure ended the flow, the failure, and
// the reverts that failed in turn.
type TaskError struct {
	Flow, Task string
	Err        error
	// RevertErrs are the failures of reverts, by task name, in the order they ran.
	RevertErrs []RevertError
}

// RevertError is one failed revert.
type RevertError struct {
	Task string
	Err  error
}

func (e *TaskError) Error() string {
	msg := fmt.Sprintf("flow %s: task %s: %v", e.Flow, e.Task, e.Err)
	if n := len(e.RevertErrs); n > 0 {
		msg += fmt.Sprintf(" (and %d revert(s) failed, first %s: %v)", n, e.RevertErrs[0].Task, e.RevertErrs[0].Err)
	}
	return msg
}

func (e *TaskError) Unwrap() error { return e.Err }

// NewID returns a new flow ID, 32 hex digits: the Unix milliseconds in the first 12, random
// after. IDs grow with time, so the journal entries of the flows running sit on the last pages
// of the journal's index rather than on a random page each.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[6:])
	ms := uint64(time.Now().UnixMilli())
	for i := range 6 {
		b[i] = byte(ms >> (40 - 8*i))
	}
	return hex.EncodeToString(b[:])
}

// Run runs the flow on s under id (NewID when empty) and returns nil or a *TaskError.
func (f *Flow[S]) Run(ctx context.Context, e *Engine, id string, s *S) error {
	if id == "" {
		id = NewID()
	}
	r := &run[S]{f: f, e: e, id: id, s: s, start: time.Now()}
	e.each(func(o Observer) { o.FlowStarted(f.Name, id) })
	return r.forward(ctx, 0)
}

// run is one execution of a flow, fresh or recovered.
type run[S any] struct {
	f     *Flow[S]
	e     *Engine
	id    string
	s     *S
	start time.Time
}

// forward executes the tasks from index from on, reverting on the first failure.
func (r *run[S]) forward(ctx context.Context, from int) error {
	for i := from; i < len(r.f.Tasks); i++ {
		t := r.f.Tasks[i]
		staged := t.Resume && !t.Outside && (i == 0 || r.f.Tasks[i-1].Resume)
		if err := r.record(ctx, Entry{Task: i, Phase: Executing, Failed: -1}, staged); err != nil {
			return r.backward(ctx, i-1, i, fmt.Errorf("journal: %w", err), nil)
		}
		if err := ctx.Err(); err != nil {
			return r.backward(ctx, i-1, i, err, nil)
		}
		if err := r.execute(ctx, i); err != nil {
			return r.backward(ctx, i, i, err, err)
		}
	}
	return r.finish(ctx, Success, Entry{}, nil)
}

func (r *run[S]) execute(ctx context.Context, i int) (err error) {
	t := r.f.Tasks[i]
	if t.Execute == nil {
		return nil
	}
	r.e.each(func(o Observer) { o.TaskStarted(r.f.Name, r.id, t.Name, false) })
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
		outcome := Success
		if err != nil {
			outcome = Failure
		}
		r.e.each(func(o Observer) { o.TaskEnded(r.f.Name, r.id, t.Name, outcome, time.Since(start)) })
	}()
	return t.Execute(ctx, r.s)
}

// backward reverts tasks top … 0; the task at index failed (if within range) gets failure.
// cause is the error that ended the flow, reported from the task at index failedAt.
func (r *run[S]) backward(ctx context.Context, top, failedAt int, cause, failure error) error {
	ctx = context.WithoutCancel(ctx)
	te := &TaskError{Flow: r.f.Name, Task: r.taskName(failedAt), Err: cause}
	for i := top; i >= 0; i-- {
		if err := r.save(ctx, Entry{Task: i, Phase: Reverting, Failed: failedAt, Error: cause.Error()}); err != nil {
			te.RevertErrs = append(te.RevertErrs, RevertError{Task: r.f.Tasks[i].Name, Err: fmt.Errorf("journal: %w", err)})
		}
		var fail error
		if i == failedAt {
			fail = failure
		}
		if err := r.revert(ctx, i, fail); err != nil {
			te.RevertErrs = append(te.RevertErrs, RevertError{Task: r.f.Tasks[i].Name, Err: err})
		}
	}
	if len(te.RevertErrs) > 0 {
		// The entry keeps the flow's failure, not the TaskError's text, which would nest once
		// more at each recovery that fails again.
		return r.finish(ctx, RevertFailed, Entry{Task: top, Phase: Stuck, Failed: failedAt, Error: cause.Error()}, te)
	}
	return r.finish(ctx, Reverted, Entry{}, te)
}

func (r *run[S]) taskName(i int) string {
	if i >= 0 && i < len(r.f.Tasks) {
		return r.f.Tasks[i].Name
	}
	return ""
}

func (r *run[S]) revert(ctx context.Context, i int, failure error) (err error) {
	t := r.f.Tasks[i]
	if t.Revert == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.e.revertTimeout())
	defer cancel()
	r.e.each(func(o Observer) { o.TaskStarted(r.f.Name, r.id, t.Name, true) })
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
		outcome := Reverted
		if err != nil {
			outcome = RevertFailed
		}
		r.e.each(func(o Observer) { o.TaskEnded(r.f.Name, r.id, t.Name, outcome, time.Since(start)) })
	}()
	return t.Revert(ctx, r.s, failure)
}

// save journals the flow's position e (Task, Phase, Failed, Error) with its current state.
func (r *run[S]) save(ctx context.Context, e Entry) error { return r.record(ctx, e, false) }

// record journals e, staged when staged is set and the journal is a Stager (see Stager for
// when that is safe).
func (r *run[S]) record(ctx context.Context, e Entry, staged bool) error {
	if r.e.Journal == nil {
		return nil
	}
	state, err := json.Marshal(r.s)
	if err != nil {
		return fmt.Errorf("encode the state of flow %s: %w", r.f.Name, err)
	}
	e.ID, e.Flow, e.State, e.Updated = r.id, r.f.Name, state, time.Now()
	if st, ok := r.e.Journal.(Stager); ok && staged {
		return st.Stage(ctx, e)
	}
	return r.e.Journal.Save(ctx, e)
}

// finish ends the flow: the journal forgets it unless a revert failed, in which case it keeps
// stuck (phase Stuck at the highest task reverted) for recovery to revert again.
func (r *run[S]) finish(ctx context.Context, outcome string, stuck Entry, te *TaskError) error {
	var jerr error
	if r.e.Journal != nil {
		ctx := context.WithoutCancel(ctx)
		if st, ok := r.e.Journal.(Stager); ok && r.stageFinish(outcome) {
			jerr = st.StageFinish(ctx, r.id)
		} else if outcome == RevertFailed {
			jerr = r.save(ctx, stuck)
		} else {
			jerr = r.e.Journal.Finish(ctx, r.id)
		}
	}
	r.e.each(func(o Observer) { o.FlowEnded(r.f.Name, r.id, outcome, time.Since(r.start)) })
	switch {
	case te != nil:
		return te
	case jerr != nil:
		return fmt.Errorf("flow %s: finished, but the journal failed: %w", r.f.Name, jerr)
	}
	return nil
}

// stageFinish reports whether the end of the flow may be staged: after a revert, whose last
// boundary was saved and whose reverts recovery may run again; after success, when the last
// task declares Resume, so that recovery finding its boundary runs it again rather than
// reverting a flow that succeeded.
func (r *run[S]) stageFinish(outcome string) bool {
	switch outcome {
	case Reverted:
		return true
	case Success:
		n := len(r.f.Tasks)
		return n == 0 || r.f.Tasks[n-1].Resume
	}
	return false
}

func (e *Engine) revertTimeout() time.Duration {
	if e.RevertTimeout > 0 {
		return e.RevertTimeout
	}
	return time.Minute
}

func (e *Engine) each(fn func(Observer)) {
	for _, o := range e.Observers {
		fn(o)
	}
}
