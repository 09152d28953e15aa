package flow

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// state is the tests' flow state: what was done, for the reverts to see.
type state struct {
	Done []string
}

// script describes how each task of a test flow behaves.
type script struct {
	failExec   map[string]error
	failRevert map[string]error
	resume     map[string]bool
}

// recorder logs every execute and revert, with the failure a revert received.
type recorder struct {
	mu  sync.Mutex
	log []string
}

func (r *recorder) add(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = append(r.log, fmt.Sprintf(format, args...))
}

func (r *recorder) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.log...)
}

func testFlow(rec *recorder, sc script, names ...string) *Flow[state] {
	f := &Flow[state]{Name: "test"}
	for _, name := range names {
		f.Tasks = append(f.Tasks, Task[state]{
			Name:   name,
			Resume: sc.resume[name],
			Execute: func(ctx context.Context, s *state) error {
				rec.add("exec %s", name)
				if err := sc.failExec[name]; err != nil {
					return err
				}
				s.Done = append(s.Done, name)
				return nil
			},
			Revert: func(ctx context.Context, s *state, failure error) error {
				rec.add("revert %s (%v)", name, failure)
				return sc.failRevert[name]
			},
		})
	}
	return f
}

// events is an Observer that records what it is told.
type events struct {
	mu  sync.Mutex
	got []string
}

func (e *events) add(s string) { e.mu.Lock(); e.got = append(e.got, s); e.mu.Unlock() }

func (e *events) FlowStarted(flow, id string) { e.add("flow start " + flow) }
func (e *events) TaskStarted(flow, id, task string, revert bool) {
	e.add(fmt.Sprintf("task start %s revert=%v", task, revert))
}
func (e *events) TaskEnded(flow, id, task, outcome string, took time.Duration) {
	e.add("task end " + task + " " + outcome)
}
func (e *events) FlowEnded(flow, id, outcome string, took time.Duration) {
	e.add("flow end " + outcome)
}
func (e *events) FlowRecovered(flow, id, action string) { e.add("recovered " + action) }

func TestRun_success(t *testing.T) {
	rec, ev, j := &recorder{}, &events{}, NewMemoryJournal()
	f := testFlow(rec, script{}, "a", "b", "c")
	var s state
	if err := f.Run(context.Background(), &Engine{Journal: j, Observers: []Observer{ev}}, "id1", &s); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"exec a", "exec b", "exec c"}, rec.lines()); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"a", "b", "c"}, s.Done); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}
	want := []string{"flow start test", "task start a revert=false", "task end a success",
		"task start b revert=false", "task end b success", "task start c revert=false",
		"task end c success", "flow end success"}
	if diff := cmp.Diff(want, ev.got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if left, _ := j.Unfinished(context.Background()); len(left) != 0 {
		t.Errorf("the journal keeps %v after success", left)
	}
}

func TestRun_failureRevertsInReverse(t *testing.T) {
	boom := errors.New("boom")
	rec, ev, j := &recorder{}, &events{}, NewMemoryJournal()
	f := testFlow(rec, script{failExec: map[string]error{"c": boom}}, "a", "b", "c", "d")
	err := f.Run(context.Background(), &Engine{Journal: j, Observers: []Observer{ev}}, "id1", &state{})
	var te *TaskError
	if !errors.As(err, &te) || te.Task != "c" || te.Flow != "test" || !errors.Is(err, boom) || len(te.RevertErrs) != 0 {
		t.Fatalf("Run = %v, want a TaskError for task c wrapping boom", err)
	}
	want := []string{"exec a", "exec b", "exec c", "revert c (boom)", "revert b (<nil>)", "revert a (<nil>)"}
	if diff := cmp.Diff(want, rec.lines()); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
	if got := ev.got[len(ev.got)-1]; got != "flow end reverted" {
		t.Errorf("last event %q", got)
	}
	if !strings.Contains(strings.Join(ev.got, ","), "task end c failure,task start c revert=true,task end c reverted") {
		t.Errorf("events %v", ev.got)
	}
	if left, _ := j.Unfinished(context.Background()); len(left) != 0 {
		t.Errorf("the journal keeps %v after a clean revert", left)
	}
}

func TestRun_failedRevertDoesNotStopTheOthers(t *testing.T) {
	boom, stuck := errors.New("boom"), errors.New("stuck")
	rec, ev, j := &recorder{}, &events{}, NewMemoryJournal()
	f := testFlow(rec, script{failExec: map[string]error{"c": boom}, failRevert: map[string]error{"b": stuck}}, "a", "b", "c")
	err := f.Run(context.Background(), &Engine{Journal: j, Observers: []Observer{ev}}, "id1", &state{})
	var te *TaskError
	if !errors.As(err, &te) || len(te.RevertErrs) != 1 || te.RevertErrs[0].Task != "b" || !errors.Is(te.RevertErrs[0].Err, stuck) {
		t.Fatalf("Run = %v, want task c's error with b's revert failure", err)
	}
	if got := rec.lines(); got[len(got)-1] != "revert a (<nil>)" {
		t.Errorf("a was not reverted after b's revert failed: %v", got)
	}
	if got := ev.got[len(ev.got)-1]; got != "flow end revert-failed" {
		t.Errorf("last event %q", got)
	}
	left, _ := j.Unfinished(context.Background())
	if len(left) != 1 || left[0].Phase != Stuck || left[0].Task != 2 || left[0].Failed != 2 {
		t.Errorf("journal after a failed revert: %+v; want one Stuck entry at task 2", left)
	}
}

func TestRun_revertsOutliveTheRequest(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var revertCtxErr error
	var hasDeadline bool
	f := &Flow[state]{Name: "cancel", Tasks: []Task[state]{
		{Name: "a", Revert: func(ctx context.Context, _ *state, _ error) error {
			_, hasDeadline = ctx.Deadline()
			revertCtxErr = ctx.Err()
			return nil
		}},
		{Name: "b", Execute: func(ctx context.Context, _ *state) error { cancel(); return ctx.Err() }},
	}}
	err := f.Run(ctx, &Engine{RevertTimeout: time.Minute}, "", &state{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want Canceled", err)
	}
	if revertCtxErr != nil || !hasDeadline {
		t.Errorf("revert context: err %v, deadline %v; want live with a deadline", revertCtxErr, hasDeadline)
	}
}

func TestRun_revertTimeout(t *testing.T) {
	f := &Flow[state]{Name: "slow", Tasks: []Task[state]{
		{Name: "a", Revert: func(ctx context.Context, _ *state, _ error) error { <-ctx.Done(); return ctx.Err() }},
		{Name: "b", Execute: func(context.Context, *state) error { return errors.New("boom") }},
	}}
	err := f.Run(context.Background(), &Engine{RevertTimeout: 20 * time.Millisecond}, "", &state{})
	var te *TaskError
	if !errors.As(err, &te) || len(te.RevertErrs) != 1 || !errors.Is(te.RevertErrs[0].Err, context.DeadlineExceeded) {
		t.Fatalf("Run = %v, want a revert that timed out", err)
	}
}

func TestRun_cancelledBetweenTasks(t *testing.T) {
	rec := &recorder{}
	f := testFlow(rec, script{}, "a", "b")
	ctx, cancel := context.WithCancel(context.Background())
	f.Tasks[0].Execute = func(context.Context, *state) error { rec.add("exec a"); cancel(); return nil }
	err := f.Run(ctx, &Engine{}, "", &state{})
	var te *TaskError
	if !errors.As(err, &te) || te.Task != "b" || !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want task b Canceled", err)
	}
	if diff := cmp.Diff([]string{"exec a", "revert a (<nil>)"}, rec.lines()); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
}

func TestRun_panics(t *testing.T) {
	f := &Flow[state]{Name: "p", Tasks: []Task[state]{
		{Name: "a", Revert: func(context.Context, *state, error) error { panic("in revert") }},
		{Name: "b", Execute: func(context.Context, *state) error { panic("in execute") }},
	}}
	err := f.Run(context.Background(), &Engine{}, "", &state{})
	var te *TaskError
	if !errors.As(err, &te) || !strings.Contains(te.Err.Error(), "in execute") ||
		len(te.RevertErrs) != 1 || !strings.Contains(te.RevertErrs[0].Err.Error(), "in revert") {
		t.Fatalf("Run = %v", err)
	}
}

// failingJournal fails its nth Save.
type failingJournal struct {
	*MemoryJournal
	n, saves int
}

func (j *failingJournal) Save(ctx context.Context, e Entry) error {
	j.saves++
	if j.saves == j.n {
		return errors.New("disk full")
	}
	return j.MemoryJournal.Save(ctx, e)
}

func TestRun_journalFailureRevertsTheFlow(t *testing.T) {
	rec := &recorder{}
	f := testFlow(rec, script{}, "a", "b")
	err := f.Run(context.Background(), &Engine{Journal: &failingJournal{MemoryJournal: NewMemoryJournal(), n: 2}}, "", &state{})
	var te *TaskError
	if !errors.As(err, &te) || te.Task != "b" || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Run = %v, want task b failing on the journal", err)
	}
	if diff := cmp.Diff([]string{"exec a", "revert a (<nil>)"}, rec.lines()); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
}

// positions records the journal positions a flow goes through.
type positions struct {
	*MemoryJournal
	got []string
}

func (p *positions) Save(ctx context.Context, e Entry) error {
	p.got = append(p.got, fmt.Sprintf("%s %d", e.Phase, e.Task))
	return p.MemoryJournal.Save(ctx, e)
}

func TestRun_journalsEveryBoundary(t *testing.T) {
	j := &positions{MemoryJournal: NewMemoryJournal()}
	f := testFlow(&recorder{}, script{failExec: map[string]error{"c": errors.New("boom")}}, "a", "b", "c")
	_ = f.Run(context.Background(), &Engine{Journal: j}, "", &state{})
	want := []string{"executing 0", "executing 1", "executing 2", "reverting 2", "reverting 1", "reverting 0"}
	if diff := cmp.Diff(want, j.got); diff != "" {
		t.Errorf("journal positions (-want +got):\n%s", diff)
	}
}

func TestRun_everyObserverIsTold(t *testing.T) {
	a, b := &events{}, &events{}
	f := testFlow(&recorder{}, script{}, "a")
	if err := f.Run(context.Background(), &Engine{Observers: []Observer{a, b}}, "", &state{}); err != nil {
		t.Fatal(err)
	}
	if len(a.got) != 4 || !cmp.Equal(a.got, b.got) {
		t.Errorf("observers saw %v and %v", a.got, b.got)
	}
}
