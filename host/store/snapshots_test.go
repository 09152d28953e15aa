package store_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/store/storetest"
	"github.com/kilnstorage/kiln/host/volume"
)

func TestCreateSnapshot(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		s := db.Open(t)
		ctx := t.Context()
		p := store.ProjectScope("p")
		v := addVolume(t, s, "p", 2)
		var te *volume.TransitionError
		_, err := s.CreateSnapshot(ctx, p, store.Snapshot{VolumeID: v.ID, UserID: "u"}, volume.SnapshotSource, "")
		if !errors.As(err, &te) || te.Current != volume.StatusCreating {
			t.Fatalf("snapshot of a creating volume: %v", err)
		}
		setStatus(t, s, v.ID, volume.StatusAvailable)
		_, err = s.CreateSnapshot(ctx, p, store.Snapshot{VolumeID: v.ID, UserID: "u"}, volume.SnapshotSource, "")
		if !errors.As(err, &te) || te.Reason != "it is on no backend" {
			t.Fatalf("snapshot of a volume on no backend: %v", err)
		}
		v = addVolume(t, s, "p", 2)
		place(t, s, v.ID, "b", "pool")
		if _, err := s.CreateSnapshot(ctx, store.ProjectScope("q"), store.Snapshot{VolumeID: v.ID, UserID: "u"}, volume.SnapshotSource, ""); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("snapshot of another project's volume: %v", err)
		}
		if _, err := s.CreateSnapshot(ctx, p, store.Snapshot{VolumeID: v.ID}, volume.DeleteBegin, ""); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("a transition that is no guard: %v", err)
		}
		snap, err := s.CreateSnapshot(ctx, p, store.Snapshot{VolumeID: v.ID, UserID: "u", Name: "s",
			Metadata: map[string]string{"k": "v"}}, volume.SnapshotSource, "")
		if err != nil {
			t.Fatal(err)
		}
		want := store.Snapshot{ID: snap.ID, ProjectID: "p", UserID: "u", VolumeID: v.ID, Name: "s",
			Status: volume.StatusCreating, SizeBytes: 2 * gib, VolumeTypeID: v.VolumeTypeID, Backend: "b",
			Pool: "pool", ProviderData: map[string]string{}, Metadata: map[string]string{"k": "v"}}
		if diff := cmp.Diff(want, snap, cmpopts.IgnoreFields(store.Snapshot{}, "CreatedAt")); diff != "" {
			t.Errorf("snapshot (-want +got):\n%s", diff)
		}
		if got, err := s.Snapshot(ctx, p, snap.ID); err != nil || !cmp.Equal(snap, got) {
			t.Errorf("read back: %v\n%s", err, cmp.Diff(snap, got))
		}
		if _, err := s.Snapshot(ctx, store.ProjectScope("q"), snap.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another project reads it: %v", err)
		}
		setStatus(t, s, v.ID, volume.StatusMaintenance)
		if _, err := s.CreateSnapshot(ctx, p, store.Snapshot{VolumeID: v.ID, UserID: "u"}, volume.SnapshotSourceForce, ""); !errors.As(err, &te) {
			t.Fatalf("forced snapshot of a volume in maintenance: %v", err)
		}
		db.Exec(t, fmt.Sprintf("UPDATE volumes SET status = 'in-use' WHERE id = '%s'", v.ID))
		if _, err := s.CreateSnapshot(ctx, p, store.Snapshot{VolumeID: v.ID, UserID: "u"}, volume.SnapshotSourceForce, ""); err != nil {
			t.Fatalf("forced snapshot of an in-use volume: %v", err)
		}
	})
}

// TestSnapshotTransitionTable applies every snapshot transition to a snapshot in every status.
func TestSnapshotTransitionTable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		s := db.Open(t)
		raw := db.Raw(t)
		ctx := t.Context()
		if err := s.SetQuotaLimits(ctx, "p", store.Limits{store.Snapshots: -1, store.Gigabytes: -1}); err != nil {
			t.Fatal(err)
		}
		v := addVolume(t, s, "p", 1)
		place(t, s, v.ID, "b", "pool")
		for _, tr := range volume.Transitions() {
			if tr.Kind() != volume.KindSnapshot {
				continue
			}
			for _, from := range volume.Statuses(volume.KindSnapshot) {
				snap, err := s.CreateSnapshot(ctx, store.AllProjects(), store.Snapshot{VolumeID: v.ID, UserID: "u"}, volume.SnapshotSource, "")
				if err != nil {
					t.Fatal(err)
				}
				if _, err := raw.Exec(fmt.Sprintf("UPDATE snapshots SET status = '%s' WHERE id = '%s'", from, snap.ID)); err != nil {
					t.Fatal(err)
				}
				got, err := s.TransitionSnapshot(ctx, store.ProjectScope("p"), snap.ID, tr, store.SnapshotChange{Fault: new("f")})
				if !tr.Allows(from) {
					var te *volume.TransitionError
					if !errors.As(err, &te) || te.Current != from || te.Kind != volume.KindSnapshot {
						t.Errorf("%s from %s: want a TransitionError, got %v", tr.Name(), from, err)
					}
					continue
				}
				want := tr.To()
				if tr.Guard() {
					want = from
				}
				if err != nil || got.Status != want || got.Fault != "f" {
					t.Errorf("%s from %s: got %s, %v", tr.Name(), from, got.Status, err)
				}
			}
		}
		reset, err := volume.ResetStatus(volume.KindSnapshot, volume.StatusAvailable)
		if err != nil {
			t.Fatal(err)
		}
		snaps, err := s.ListSnapshots(ctx, store.AllProjects(), store.SnapshotFilter{Status: volume.StatusError}, store.ListOptions{Limit: 1})
		if err != nil || len(snaps) != 1 {
			t.Fatalf("list: %v, %v", snaps, err)
		}
		if got, err := s.TransitionSnapshot(ctx, store.AllProjects(), snaps[0].ID, reset, store.SnapshotChange{}); err != nil || got.Status != volume.StatusAvailable {
			t.Fatalf("reset: %+v, %v", got, err)
		}
		checkClean(t, s)
	})
}

func TestUpdateSnapshot(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		s := db.Open(t)
		v := addVolume(t, s, "p", 1)
		place(t, s, v.ID, "b", "pool")
		snap, err := s.CreateSnapshot(t.Context(), store.ProjectScope("p"), store.Snapshot{VolumeID: v.ID, UserID: "u"}, volume.SnapshotSource, "")
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.UpdateSnapshot(t.Context(), store.ProjectScope("p"), snap.ID, store.Update{Description: new("d"), Metadata: map[string]string{"a": "b"}})
		if err != nil || got.Description != "d" || !cmp.Equal(got.Metadata, map[string]string{"a": "b"}) {
			t.Fatalf("UpdateSnapshot = %+v, %v", got, err)
		}
		if _, err := s.UpdateSnapshot(t.Context(), store.ProjectScope("q"), snap.ID, store.Update{}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another project updates it: %v", err)
		}
	})
}
