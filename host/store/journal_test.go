package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kilnstorage/kiln/host/flow"
	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/store/storetest"
	"github.com/kilnstorage/kiln/host/volume"
)

func TestJournal(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		s := db.Open(t)
		ctx := t.Context()
		j, other := s.Journal("host1"), s.Journal("host2")
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		entries := []flow.Entry{
			{ID: "b", Flow: "volume_create_api", Task: 2, Phase: flow.Executing, State: []byte(`{"n":1}`), Failed: -1, Updated: t0.Add(2 * time.Second)},
			{ID: "a", Flow: "volume_create_api", Task: 1, Phase: flow.Reverting, State: []byte(`{}`), Failed: 3, Error: "boom", Updated: t0.Add(time.Second)},
			{ID: "c", Flow: "volume_delete", Task: 0, Phase: flow.Stuck, State: []byte(`null`), Failed: 0, Error: "x", Updated: t0.Add(3 * time.Second)},
		}
		for _, e := range entries {
			if err := j.Save(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		if err := other.Save(ctx, flow.Entry{ID: "z", Flow: "f", State: []byte(`{}`), Updated: t0}); err != nil {
			t.Fatal(err)
		}
		replaced := entries[0]
		replaced.Task, replaced.State, replaced.Updated = 3, []byte(`{"n":2}`), t0.Add(4*time.Second)
		if err := j.Save(ctx, replaced); err != nil {
			t.Fatal(err)
		}
		if err := j.Finish(ctx, "c"); err != nil {
			t.Fatal(err)
		}
		if err := j.Finish(ctx, "z"); err != nil { // another owner's flow stays
			t.Fatal(err)
		}
		got, err := j.Unfinished(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []flow.Entry{entries[1], replaced}
		if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
			t.Errorf("unfinished (-want +got):\n%s", diff)
		}
		if got, _ := other.Unfinished(ctx); len(got) != 1 || got[0].ID != "z" {
			t.Errorf("host2's journal: %+v", got)
		}
	})
}

// createState is the state of a miniature create flow.
type createState struct {
	FlowID, VolumeID string
}

// createFlow reserves, creates the row (the commit), then runs last.
func createFlow(s *store.Store, last func(context.Context, *createState) error) *flow.Flow[createState] {
	return &flow.Flow[createState]{Name: "mini_create", Tasks: []flow.Task[createState]{
		{Name: "QuotaReserveTask", Resume: true,
			Execute: func(ctx context.Context, st *createState) error {
				return s.Reserve(ctx, store.Reservation{FlowID: st.FlowID, ProjectID: "p", Deltas: store.VolumeDeltas(def, gib)})
			},
			Revert: func(ctx context.Context, st *createState, _ error) error {
				return s.RollbackReservations(ctx, st.FlowID)
			}},
		{Name: "EntryCreateTask",
			Execute: func(ctx context.Context, st *createState) error {
				_, err := s.CreateVolume(ctx, store.Volume{ID: st.VolumeID, ProjectID: "p", UserID: "u", SizeBytes: gib}, st.FlowID)
				return err
			},
			Revert: func(ctx context.Context, st *createState, _ error) error {
				_, err := s.TransitionVolume(ctx, store.AllProjects(), st.VolumeID, volume.Discard, store.VolumeChange{})
				if errors.Is(err, store.ErrNotFound) {
					return nil
				}
				return err
			}},
		{Name: "Last", Execute: last},
	}}
}

// TestFlowOnTheStore runs a flow on the store's journal: a failure reverts the row and the
// quota; a crash after the reservation is rolled back by recovery. Usage always equals the rows.
func TestFlowOnTheStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		s := db.Open(t)
		ctx := t.Context()
		e := &flow.Engine{Journal: s.Journal("host1")}
		boom := errors.New("boom")
		f := createFlow(s, func(context.Context, *createState) error { return boom })
		st := &createState{FlowID: flow.NewID(), VolumeID: store.NewID()}
		if err := f.Run(ctx, e, st.FlowID, st); !errors.Is(err, boom) {
			t.Fatalf("Run = %v, want boom", err)
		}
		if _, err := s.Volume(ctx, store.AllProjects(), st.VolumeID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the reverted volume is still there: %v", err)
		}
		if u := usage(t, s, "p", "volumes")["volumes"]; u.InUse != 0 || u.Reserved != 0 {
			t.Errorf("usage after the revert: %+v", u)
		}
		checkClean(t, s)

		// A host died after reserving, while creating the row: recovery reverts the flow.
		crashed := createState{FlowID: flow.NewID(), VolumeID: store.NewID()}
		if err := s.Reserve(ctx, store.Reservation{FlowID: crashed.FlowID, ProjectID: "p", Deltas: store.VolumeDeltas(def, gib)}); err != nil {
			t.Fatal(err)
		}
		if err := e.Journal.Save(ctx, flow.Entry{ID: crashed.FlowID, Flow: f.Name, Task: 1, Phase: flow.Executing,
			State: []byte(`{"FlowID":"` + crashed.FlowID + `","VolumeID":"` + crashed.VolumeID + `"}`), Failed: -1}); err != nil {
			t.Fatal(err)
		}
		recs, err := e.Recover(ctx, f)
		if err != nil || len(recs) != 1 || recs[0].Action != flow.Rolledback {
			t.Fatalf("Recover = %+v, %v", recs, err)
		}
		if u := usage(t, s, "p", "volumes")["volumes"]; u.InUse != 0 || u.Reserved != 0 {
			t.Errorf("usage after recovery: %+v", u)
		}
		if left, _ := e.Journal.Unfinished(ctx); len(left) != 0 {
			t.Errorf("journal after recovery: %+v", left)
		}
		checkClean(t, s)
	})
}
