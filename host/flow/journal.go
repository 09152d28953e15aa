package flow

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"
)

// Phase is where a journaled flow stands.
type Phase string

// Phases.
const (
	// Executing: tasks before Task finished; Task is about to run or running.
	Executing Phase = "executing"
	// Reverting: tasks after Task were reverted; Task's revert is about to run or running.
	Reverting Phase = "reverting"
	// Stuck: a revert failed; tasks up to Task must be reverted again.
	Stuck Phase = "revert-failed"
)

// Entry is a flow's journal record.
type Entry struct {
	ID    string
	Flow  string
	Task  int
	Phase Phase
	// State is the flow's state as JSON.
	State []byte
	// Failed is the index of the task whose failure made the flow revert; -1 for none.
	Failed int
	// Error is the failure that made the flow revert, if any.
	Error   string
	Updated time.Time
}

// Journal keeps the progress of running flows. The store implements it durably.
type Journal interface {
	// Save records e, replacing the entry with the same ID.
	Save(ctx context.Context, e Entry) error
	// Finish forgets the flow id: it ended in a final state.
	Finish(ctx context.Context, id string) error
	// Unfinished lists every flow that has not ended, oldest first.
	Unfinished(ctx context.Context) ([]Entry, error)
}

// Stager is a Journal that can also record without waiting for the record to be durable. A
// staged record must become durable no later than every record and every other write of the
// same store issued after it, and in order: whatever a crash keeps of a flow is a prefix of
// what it staged and saved.
//
// The engine stages the boundary before a task when that task and the one before it both
// declare Resume and the task does not act Outside the store, and the end of a flow that
// reverted or whose last task declares Resume. A crash can then lose the last boundaries of a
// run of such tasks — never past a task whose own store write committed, as that write commits
// after the boundary before it, nor past one that acts outside — and recovery re-runs those
// tasks from the last boundary kept, which Resume already requires to be safe; a flow whose
// every boundary was lost did nothing that outlived the crash. Boundaries next to a task
// without Resume, before one acting outside, and every boundary of a revert, are saved:
// recovery must find those exactly.
type Stager interface {
	Journal
	// Stage records e as Save does, without waiting for it to be durable.
	Stage(ctx context.Context, e Entry) error
	// StageFinish forgets id as Finish does, without waiting for it to be durable.
	StageFinish(ctx context.Context, id string) error
}

// MemoryJournal is a Journal in memory, for tests and benchmarks.
type MemoryJournal struct {
	mu      sync.Mutex
	entries map[string]Entry
	saves   int
}

// NewMemoryJournal returns an empty journal.
func NewMemoryJournal() *MemoryJournal {
	return &MemoryJournal{entries: make(map[string]Entry)}
}

// Save records e.
func (j *MemoryJournal) Save(_ context.Context, e Entry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	e.State = slices.Clone(e.State)
	j.entries[e.ID] = e
	j.saves++
	return nil
}

// Finish forgets id.
func (j *MemoryJournal) Finish(_ context.Context, id string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	delete(j.entries, id)
	return nil
}

// Unfinished lists the entries, oldest first.
func (j *MemoryJournal) Unfinished(context.Context) ([]Entry, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]Entry, 0, len(j.entries))
	for _, e := range j.entries {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b Entry) int {
		if c := a.Updated.Compare(b.Updated); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}
