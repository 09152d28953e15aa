package flow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Recoverable is a flow definition that recovery can finish; every *Flow[S] is one.
type Recoverable interface {
	flowName() string
	recover(ctx context.Context, e *Engine, entry Entry) (action string, err error)
}

// Recovery is what recovery did with one unfinished flow.
type Recovery struct {
	ID, Flow string
	// Action is Resumed or Rolledback.
	Action string
	// Err is the flow's error after recovery: nil when resumed to success, a *TaskError when it
	// was reverted (or failed again and was reverted).
	Err error
}

// Recover finishes every flow the journal holds: each is resumed forward when the task that was
// running declares Resume, and reverted otherwise; a flow whose revert had failed is reverted
// again. It returns what it did, and an error for entries it cannot handle (unknown flow, bad
// state), which stay in the journal.
func (e *Engine) Recover(ctx context.Context, flows ...Recoverable) ([]Recovery, error) {
	if e.Journal == nil {
		return nil, nil
	}
	entries, err := e.Journal.Unfinished(ctx)
	if err != nil {
		return nil, fmt.Errorf("flow recovery: %w", err)
	}
	defs := make(map[string]Recoverable, len(flows))
	for _, f := range flows {
		defs[f.flowName()] = f
	}
	var out []Recovery
	var errs []error
	for _, entry := range entries {
		def, ok := defs[entry.Flow]
		if !ok {
			errs = append(errs, fmt.Errorf("flow recovery: %s: no definition of flow %q", entry.ID, entry.Flow))
			continue
		}
		action, err := def.recover(ctx, e, entry)
		if action == "" {
			errs = append(errs, fmt.Errorf("flow recovery: %s: %w", entry.ID, err))
			continue
		}
		e.each(func(o Observer) { o.FlowRecovered(entry.Flow, entry.ID, action) })
		out = append(out, Recovery{ID: entry.ID, Flow: entry.Flow, Action: action, Err: err})
	}
	return out, errors.Join(errs...)
}

func (f *Flow[S]) flowName() string { return f.Name }

// interrupted is the failure of a flow the journal says was reverting, failing with msg: it
// wraps ErrInterrupted, once however many crashes came between.
func interrupted(msg string) error {
	prefix := ErrInterrupted.Error() + ": "
	return fmt.Errorf("%w: %s", ErrInterrupted, strings.TrimPrefix(msg, prefix))
}

// recover continues one journaled flow; an empty action means it could not.
func (f *Flow[S]) recover(ctx context.Context, e *Engine, entry Entry) (string, error) {
	var s S
	if err := json.Unmarshal(entry.State, &s); err != nil {
		return "", fmt.Errorf("decode the state of flow %s: %w", f.Name, err)
	}
	if entry.Task < -1 || entry.Task >= len(f.Tasks) {
		return "", fmt.Errorf("flow %s has %d tasks, the journal says task %d", f.Name, len(f.Tasks), entry.Task)
	}
	r := &run[S]{f: f, e: e, id: entry.ID, s: &s, start: time.Now()}
	switch entry.Phase {
	case Executing:
		if entry.Task < 0 || f.Tasks[entry.Task].Resume {
			return Resumed, r.forward(ctx, max(entry.Task, 0))
		}
		return Rolledback, r.backward(ctx, entry.Task, entry.Task, ErrInterrupted, ErrInterrupted)
	case Reverting, Stuck:
		cause := interrupted(entry.Error)
		return Rolledback, r.backward(ctx, entry.Task, entry.Failed, cause, cause)
	}
	return "", fmt.Errorf("unknown phase %q", entry.Phase)
}
