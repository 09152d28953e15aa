package store_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/store/storetest"
	"github.com/kilnstorage/kiln/host/volume"
)

func TestCreateAndGetVolume(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		s := db.Open(t)
		ctx := t.Context()
		v, err := s.CreateVolume(ctx, store.Volume{ProjectID: "p1", UserID: "u1", Name: "data",
			SizeBytes: 2 * gib, AvailabilityZone: "nova", Metadata: map[string]string{"k": "v"}}, "")
		if err != nil {
			t.Fatal(err)
		}
		if v.ID == "" || v.Status != volume.StatusCreating || v.VolumeTypeID == "" || v.CreatedAt.IsZero() {
			t.Fatalf("created %+v", v)
		}
		def, err := s.VolumeTypeByName(ctx, store.DefaultTypeName)
		if err != nil || v.VolumeTypeID != def.ID {
			t.Fatalf("type %q, default %+v, %v", v.VolumeTypeID, def, err)
		}
		got, err := s.Volume(ctx, store.ProjectScope("p1"), v.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(v, got); diff != "" {
			t.Errorf("read back (-created +read):\n%s", diff)
		}
		if _, err := s.Volume(ctx, store.AllProjects(), v.ID); err != nil {
			t.Errorf("admin scope: %v", err)
		}
		if _, err := s.Volume(ctx, store.ProjectScope("p2"), v.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another project sees it: %v", err)
		}
		if _, err := s.Volume(ctx, store.Scope{}, v.ID); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("zero scope: %v", err)
		}
		if _, err := s.CreateVolume(ctx, store.Volume{ID: v.ID, ProjectID: "p1", UserID: "u", SizeBytes: gib}, ""); !errors.Is(err, store.ErrExists) {
			t.Errorf("duplicate id: %v", err)
		}
		if _, err := s.CreateVolume(ctx, store.Volume{ProjectID: "p1", UserID: "u", SizeBytes: gib, VolumeTypeID: "nope"}, ""); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown type: %v", err)
		}
	})
}

// TestTransitionTable applies every volume transition of host/volume's table to a volume in
// every status, and expects the store to allow exactly the table's from set.
func TestTransitionTable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		s := db.Open(t)
		raw := db.Raw(t)
		ctx := t.Context()
		// One volume, set to each status in turn (and undeleted) with raw SQL.
		v := addVolume(t, s, "p", 1)
		for _, tr := range volume.Transitions() {
			if tr.Kind() != volume.KindVolume {
				continue
			}
			for _, from := range volume.Statuses(volume.KindVolume) {
				if _, err := raw.Exec(fmt.Sprintf("UPDATE volumes SET status = '%s', deleted_at = NULL WHERE id = '%s'", from, v.ID)); err != nil {
					t.Fatal(err)
				}
				got, err := s.TransitionVolume(ctx, store.AllProjects(), v.ID, tr, store.VolumeChange{})
				if !tr.Allows(from) {
					var te *volume.TransitionError
					if !errors.As(err, &te) || te.Current != from || !cmp.Equal(te.Expected, tr.From()) {
						t.Errorf("%s from %s: want a TransitionError, got %v", tr.Name(), from, err)
					}
					continue
				}
				want := tr.To()
				if tr.Guard() {
					want = from
				}
				if err != nil || got.Status != want || (!tr.Guard() && got.PreviousStatus != from) {
					t.Errorf("%s from %s: got %s (previous %s), %v; want %s", tr.Name(), from, got.Status,
						got.PreviousStatus, err, want)
				}
			}
		}
	})
}

func TestTransitionErrorMessage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		s := db.Open(t)
		v := addVolume(t, s, "p", 1)
		_, err := s.TransitionVolume(t.Context(), store.ProjectScope("p"), v.ID, volume.ExtendBegin, store.VolumeChange{})
		var te *volume.TransitionError
		if !errors.As(err, &te) {
			t.Fatalf("want a TransitionError, got %v", err)
		}
		want := &volume.TransitionError{Kind: volume.KindVolume, ID: v.ID, Transition: "extend-begin",
			Current: volume.StatusCreating, Expected: []volume.Status{volume.StatusAvailable}}
		if diff := cmp.Diff(want, te); diff != "" {
			t.Errorf("error (-want +got):\n%s", diff)
		}
		wantMsg := "cannot extend-begin volume " + v.ID + ": status is creating, expected one of: available"
		if err.Error() != wantMsg {
			t.Errorf("message %q, want %q", err, wantMsg)
		}
		if _, err := s.TransitionVolume(t.Context(), store.ProjectScope("other"), v.ID, volume.CreateDone, store.VolumeChange{}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another project's transition: %v", err)
		}
		if _, err := s.TransitionVolume(t.Context(), store.AllProjects(), v.ID, volume.SnapshotDestroy, store.VolumeChange{}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("a snapshot transition on a volume: %v", err)
		}
	})
}

func TestDeleteNeedsNoSnapshots(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		s := db.Open(t)
		ctx := t.Context()
		v := addVolume(t, s, "p", 1)
		place(t, s, v.ID, "b", "pool")
		snap, err := s.CreateSnapshot(ctx, store.AllProjects(), store.Snapshot{VolumeID: v.ID, UserID: "u"}, volume.SnapshotSource, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range []volume.Transition{volume.DeleteBegin, volume.ForceDelete} {
			_, err := s.TransitionVolume(ctx, store.AllProjects(), v.ID, tr, store.VolumeChange{})
			var te *volume.TransitionError
			if !errors.As(err, &te) || te.Reason != "it has 1 snapshots" {
				t.Errorf("%s with a snapshot: %v", tr.Name(), err)
			}
		}
		for _, tr := range []volume.Transition{volume.SnapshotForceDelete, volume.SnapshotDestroy} {
			if _, err := s.TransitionSnapshot(ctx, store.AllProjects(), snap.ID, tr, store.SnapshotChange{}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.TransitionVolume(ctx, store.AllProjects(), v.ID, volume.DeleteBegin, store.VolumeChange{}); err != nil {
			t.Errorf("delete after the snapshot went: %v", err)
		}
	})
}

// TestConcurrentTransitions races one transition on one volume: exactly one wins, every other
// sees the winner's status.
func TestConcurrentTransitions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		s := db.Open(t)
		v := addVolume(t, s, "p", 1)
		place(t, s, v.ID, "b", "pool")
		const n = 16
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				_, errs[i] = s.TransitionVolume(t.Context(), store.ProjectScope("p"), v.ID, volume.DeleteBegin, store.VolumeChange{})
			})
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			var te *volume.TransitionError
			switch {
			case err == nil:
				won++
			case errors.As(err, &te) && te.Current == volume.StatusDeleting:
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d transitions won, want 1", won)
		}
	})
}

func TestVolumeChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		s := db.Open(t)
		ctx := t.Context()
		v := addVolume(t, s, "p", 1)
		_, err := s.TransitionVolume(ctx, store.AllProjects(), v.ID, volume.Reschedule, store.VolumeChange{
			Backend: new(""), Pool: new(""), Fault: new("b#p1: no space"), Attempt: "b#p1"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.TransitionVolume(ctx, store.AllProjects(), v.ID, volume.CreateDone, store.VolumeChange{
			Backend: new("b"), Pool: new("p2"), ProviderData: map[string]string{"lv": "x"}, Attempt: "b#p2"})
		if err != nil {
			t.Fatal(err)
		}
		want := v
		want.Status, want.PreviousStatus, want.Backend, want.Pool = volume.StatusAvailable, volume.StatusCreating, "b", "p2"
		want.ProviderData, want.Attempts, want.Attempted = map[string]string{"lv": "x"}, 2, []string{"b#p1", "b#p2"}
		want.Fault = "b#p1: no space"
		if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(store.Volume{}, "UpdatedAt")); diff != "" {
			t.Errorf("after reschedule and create-done (-want +got):\n%s", diff)
		}
		read, err := s.Volume(ctx, store.AllProjects(), v.ID)
		if err != nil || !cmp.Equal(got, read) {
			t.Errorf("read back differs: %v\n%s", err, cmp.Diff(got, read))
		}
		setStatus(t, s, v.ID, volume.StatusExtending)
		if _, err := s.TransitionVolume(ctx, store.AllProjects(), v.ID, volume.ExtendDone, store.VolumeChange{SizeBytes: gib / 2}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("shrink: %v", err)
		}
	})
}

func TestUpdateVolume(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		s := db.Open(t)
		ctx := t.Context()
		v, err := s.CreateVolume(ctx, store.Volume{ProjectID: "p", UserID: "u", SizeBytes: gib,
			Metadata: map[string]string{"a": "1", "b": "2"}}, "")
		if err != nil {
			t.Fatal(err)
		}
		sc := store.ProjectScope("p")
		got, err := s.UpdateVolume(ctx, sc, v.ID, store.Update{Name: new("n"), Metadata: map[string]string{"c": "3"},
			DeleteMetadata: []string{"a"}})
		if err != nil || got.Name != "n" || !cmp.Equal(got.Metadata, map[string]string{"b": "2", "c": "3"}) {
			t.Fatalf("merge: %+v, %v", got, err)
		}
		got, err = s.UpdateVolume(ctx, sc, v.ID, store.Update{Metadata: map[string]string{"z": "9"}, ReplaceMetadata: true})
		if err != nil || !cmp.Equal(got.Metadata, map[string]string{"z": "9"}) || got.Name != "n" {
			t.Fatalf("replace: %+v, %v", got, err)
		}
		setStatus(t, s, v.ID, volume.StatusMaintenance)
		var te *volume.TransitionError
		if _, err := s.UpdateVolume(ctx, sc, v.ID, store.Update{Name: new("m")}); !errors.As(err, &te) {
			t.Fatalf("update in maintenance: %v", err)
		}
	})
}
