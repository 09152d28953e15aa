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
