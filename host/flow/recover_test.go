package flow

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// journalAt returns a journal holding one entry of flow "test" at the given position, with the
// state of a flow that finished tasks done.
func journalAt(t *testing.T, task int, phase Phase, failed int, done ...string) *MemoryJournal {
	t.Helper()
	j := NewMemoryJournal()
	raw, _ := json.Marshal(state{Done: done})
	_ = j.Save(context.Background(), Entry{ID: "f1", Flow: "test", Task: task, Phase: phase,
		Failed: failed, Error: "boom", State: raw})
	return j
}

func TestRecover(t *testing.T) {
	interrupted := "flow: interrupted by a crash"
	tests := []struct {
		name   string
		j      *MemoryJournal
		action string
		want   []string
	}{
		{"running a resumable task: resume", journalAt(t, 1, Executing, -1, "a"), Resumed,
			[]string{"exec b", "exec c"}},
		{"running a task that may not run twice: revert it and the earlier ones", journalAt(t, 2, Executing, -1, "a", "b"), Rolledback,
			[]string{"revert c (" + interrupted + ")", "revert b (<nil>)", "revert a (<nil>)"}},
		{"reverting: go on reverting", journalAt(t, 1, Reverting, 2, "a", "b"), Rolledback,
			[]string{"revert b (<nil>)", "revert a (<nil>)"}},
		{"reverting the failed task: it gets the failure", journalAt(t, 2, Reverting, 2, "a", "b"), Rolledback,
			[]string{"revert c (" + interrupted + ": boom)", "revert b (<nil>)", "revert a (<nil>)"}},
		{"a revert had failed: revert again", journalAt(t, 2, Stuck, 2, "a", "b"), Rolledback,
			[]string{"revert c (" + interrupted + ": boom)", "revert b (<nil>)", "revert a (<nil>)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, ev := &recorder{}, &events{}
			f := testFlow(rec, script{resume: map[string]bool{"b": true}}, "a", "b", "c")
			e := &Engine{Journal: tt.j, Observers: []Observer{ev}}
			got, err := e.Recover(context.Background(), f)
			if err != nil || len(got) != 1 || got[0].Action != tt.action || got[0].ID != "f1" {
				t.Fatalf("Recover = %+v, %v; want one %s", got, err, tt.action)
			}
			if diff := cmp.Diff(tt.want, rec.lines()); diff != "" {
				t.Errorf("log (-want +got):\n%s", diff)
			}
			if left, _ := tt.j.Unfinished(context.Background()); len(left) != 0 {
				t.Errorf("journal after recovery: %+v", left)
			}
			if !strings.Contains(strings.Join(ev.got, ","), "recovered "+tt.action) {
				t.Errorf("events %v", ev.got)
			}
		})
	}
}

func TestRecover_resumedStateIsTheJournaledOne(t *testing.T) {
	var final state
	f := testFlow(&recorder{}, script{resume: map[string]bool{"c": true}}, "a", "b", "c")
	f.Tasks = append(f.Tasks, Task[state]{Name: "last", Execute: func(_ context.Context, s *state) error {
		final = *s
		return nil
	}})
	e := &Engine{Journal: journalAt(t, 2, Executing, -1, "a", "b")}
	if _, err := e.Recover(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a", "b", "c"}, final.Done); diff != "" {
		t.Errorf("state seen by the last task (-want +got):\n%s", diff)
	}
}

func TestRecover_unknownFlowAndBadStateStay(t *testing.T) {
	j := NewMemoryJournal()
	ctx := context.Background()
	_ = j.Save(ctx, Entry{ID: "x", Flow: "gone", Phase: Executing, State: []byte(`{}`)})
	_ = j.Save(ctx, Entry{ID: "y", Flow: "test", Phase: Executing, State: []byte(`{"Done": 5}`)})
	_ = j.Save(ctx, Entry{ID: "z", Flow: "test", Task: 9, Phase: Executing, State: []byte(`{}`)})
	f := testFlow(&recorder{}, script{}, "a")
	got, err := (&Engine{Journal: j}).Recover(ctx, f)
	if len(got) != 0 || err == nil {
		t.Fatalf("Recover = %+v, %v; want nothing done and an error", got, err)
	}
	for _, want := range []string{`no definition of flow "gone"`, "decode the state", "the journal says task 9"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if left, _ := j.Unfinished(ctx); len(left) != 3 {
		t.Errorf("%d entries left, want all 3 kept for an operator", len(left))
	}
}

func TestRecover_flowThatFailsAgainIsReverted(t *testing.T) {
	rec := &recorder{}
	f := testFlow(rec, script{resume: map[string]bool{"b": true}, failExec: map[string]error{"b": errors.New("still broken")}}, "a", "b")
	got, err := (&Engine{Journal: journalAt(t, 1, Executing, -1, "a")}).Recover(context.Background(), f)
	if err != nil || len(got) != 1 || got[0].Action != Resumed || !strings.Contains(got[0].Err.Error(), "still broken") {
		t.Fatalf("Recover = %+v, %v", got, err)
	}
	if diff := cmp.Diff([]string{"exec b", "revert b (still broken)", "revert a (<nil>)"}, rec.lines()); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
}

// TestRecover_stuckErrorDoesNotGrow: a flow whose revert keeps failing stays in the journal with
// its failure, which does not grow with each recovery that fails again.
func TestRecover_stuckErrorDoesNotGrow(t *testing.T) {
	j := NewMemoryJournal()
	rec := &recorder{}
	f := testFlow(rec, script{failExec: map[string]error{"b": errors.New("boom")},
		failRevert: map[string]error{"a": errors.New("stuck")}}, "a", "b")
	e := &Engine{Journal: j}
	if err := f.Run(context.Background(), e, "f1", &state{}); err == nil {
		t.Fatal("the flow succeeded")
	}
	var msgs []string
	for range 3 {
		entries, _ := j.Unfinished(context.Background())
		if len(entries) != 1 || entries[0].Phase != Stuck {
			t.Fatalf("journal: %+v", entries)
		}
		msgs = append(msgs, entries[0].Error)
		if _, err := e.Recover(context.Background(), f); err != nil {
			t.Fatal(err)
		}
	}
	if msgs[1] != msgs[2] || !strings.Contains(msgs[2], "boom") || strings.Count(msgs[2], ErrInterrupted.Error()) > 1 {
		t.Errorf("the stuck entry's error across recoveries: %q", msgs)
	}
}
