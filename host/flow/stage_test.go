package flow

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"sync"
	"testing"
)

// lossyStore models the store behind a Stager: staged records and a task's own writes queue
// in order, and each awaited write (Save, Finish, a task's store write) makes everything queued
// before it durable. A crash loses the queue. Effects outside the store are durable at once.
type lossyStore struct {
	mu      sync.Mutex
	durable map[string]Entry
	applied map[string]bool // effects: task name → applied
	queue   []func()
	ops     int
	crashAt int // the operation after which the process "dies" (runtime.Goexit)
	calls   []string
}

func newLossyStore(crashAt int) *lossyStore {
	return &lossyStore{durable: map[string]Entry{}, applied: map[string]bool{}, crashAt: crashAt}
}

// op queues fn, makes the queue durable when awaited, and crashes after crashAt operations.
func (s *lossyStore) op(call string, awaited bool, fn func()) {
	s.mu.Lock()
	s.calls = append(s.calls, call)
	s.queue = append(s.queue, fn)
	if awaited {
		for _, f := range s.queue {
			f()
		}
		s.queue = nil
	}
	s.ops++
	crash := s.ops == s.crashAt
	s.mu.Unlock()
	if crash {
		runtime.Goexit()
	}
}

func (s *lossyStore) put(e Entry) func() {
	return func() { s.durable[e.ID] = e }
}
func (s *lossyStore) del(id string) func() { return func() { delete(s.durable, id) } }

func (s *lossyStore) Save(_ context.Context, e Entry) error {
	s.op(fmt.Sprintf("save %d %s", e.Task, e.Phase), true, s.put(e))
	return nil
}
func (s *lossyStore) Stage(_ context.Context, e Entry) error {
	s.op(fmt.Sprintf("stage %d %s", e.Task, e.Phase), false, s.put(e))
	return nil
}
func (s *lossyStore) Finish(_ context.Context, id string) error {
	s.op("finish", true, s.del(id))
	return nil
}
func (s *lossyStore) StageFinish(_ context.Context, id string) error {
	s.op("stage finish", false, s.del(id))
	return nil
}
func (s *lossyStore) Unfinished(context.Context) ([]Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Collect(maps.Values(s.durable)), nil
}

// effect sets (or clears) the applied mark of task name: a store write, awaited, when inStore.
func (s *lossyStore) effect(name string, on, inStore bool) {
	set := func() { s.applied[name] = on }
	if inStore {
		s.op("write "+name, true, set)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	set()
}

// stagingFlow runs b, which does nothing durable, then c, which acts outside (a driver) before
// any store write, a, which writes to the store, d, which writes to the store and may not run
// twice, and e, which does nothing durable. With fail, e fails. Every task but d declares
// Resume.
func stagingFlow(s *lossyStore, fail bool, twice *[]string) *Flow[state] {
	kinds := map[string]string{"a": "store", "b": "", "c": "outside", "d": "store", "e": ""}
	f := &Flow[state]{Name: "staging"}
	for _, name := range []string{"b", "c", "a", "d", "e"} {
		kind := kinds[name]
		f.Tasks = append(f.Tasks, Task[state]{Name: name, Resume: name != "d", Outside: kind == "outside",
			Execute: func(context.Context, *state) error {
				if name == "d" && s.applied["d"] {
					*twice = append(*twice, name)
				}
				if fail && name == "e" {
					return errors.New("boom")
				}
				if kind != "" {
					s.effect(name, true, kind == "store")
				}
				return nil
			},
			Revert: func(context.Context, *state, error) error {
				if kind != "" {
					s.effect(name, false, kind == "store")
				}
				return nil
			}})
	}
	return f
}

// TestStagedJournal_crashAnywhere crashes a flow after every journal operation and store write,
// losing what was staged since the last awaited write, recovers it, and requires the outcome
// to be all or nothing: every effect applied (success) or none (reverted), the flow gone from
// the journal, and the task without Resume never run twice.
func TestStagedJournal_crashAnywhere(t *testing.T) {
	for _, fail := range []bool{false, true} {
		for n := 1; ; n++ {
			s := newLossyStore(n)
			var twice []string
			f := stagingFlow(s, fail, &twice)
			done := make(chan error, 1)
			go func() {
				defer close(done)
				done <- f.Run(context.Background(), &Engine{Journal: s}, "flow-1", &state{})
			}()
			_, completed := <-done
			calls := slices.Clone(s.calls)
			s.queue, s.crashAt = nil, 0 // the crash: the queue is lost
			if _, err := (&Engine{Journal: s}).Recover(context.Background(), f); err != nil {
				t.Fatalf("fail=%v, crash after op %d: Recover: %v", fail, n, err)
			}
			s.op("sync", true, func() {})
			if len(s.durable) != 0 {
				t.Errorf("fail=%v, crash after op %d: left in the journal: %+v", fail, n, s.durable)
			}
			all := s.applied["a"] && s.applied["c"] && s.applied["d"]
			none := !s.applied["a"] && !s.applied["c"] && !s.applied["d"]
			if !all && !none || fail && !none || completed && !fail && !all {
				t.Errorf("fail=%v, crash after op %d %v: effects %v, want all or none (none on failure)",
					fail, n, calls, s.applied)
			}
			if len(twice) > 0 {
				t.Errorf("fail=%v, crash after op %d %v: ran %v twice", fail, n, calls, twice)
			}
			if completed {
				t.Logf("fail=%v: %d operations: %v", fail, n-1, calls)
				break
			}
		}
	}
}

// TestStagedJournal_whatIsStaged checks which boundaries the engine stages.
func TestStagedJournal_whatIsStaged(t *testing.T) {
	s := newLossyStore(0)
	var twice []string
	if err := stagingFlow(s, false, &twice).Run(context.Background(), &Engine{Journal: s}, "f", &state{}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"stage 0 executing",
		"save 1 executing", // c acts outside
		"stage 2 executing", "write a",
		"save 3 executing", // d has no Resume
		"write d",
		"save 4 executing", // after d
		"stage finish",     // e declares Resume
	}
	if !slices.Equal(s.calls, want) {
		t.Errorf("calls\n got %v\nwant %v", s.calls, want)
	}
}
