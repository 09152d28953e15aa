package store_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/store/storetest"
	"github.com/kilnstorage/kiln/host/volume"
)

// TestBeginCascadeDelete: the volume and all its snapshots move to deleting together, or, when
// one snapshot may not be deleted, nothing moves.
func TestBeginCascadeDelete(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		s := db.Open(t)
		ctx := t.Context()
		p := store.ProjectScope("p")
		v := addVolume(t, s, "p", 2)
		place(t, s, v.ID, "b", "pool")
		var snaps []store.Snapshot
		for range 2 {
			sn, err := s.CreateSnapshot(ctx, p, store.Snapshot{VolumeID: v.ID, UserID: "u"}, volume.SnapshotSource, "")
			if err != nil {
				t.Fatal(err)
			}
			snaps = append(snaps, sn)
		}
		if _, err := s.TransitionSnapshot(ctx, p, snaps[0].ID, volume.SnapshotCreateDone, store.SnapshotChange{}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.BeginCascadeDelete(ctx, p, v.ID, volume.DeleteBegin); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("a transition that checks for snapshots: %v, want invalid", err)
		}
		if _, _, err := s.BeginCascadeDelete(ctx, store.ProjectScope("q"), v.ID, volume.DeleteCascadeBegin); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another project's volume: %v", err)
		}
		// snaps[1] is still creating: refused, nothing moved.
		var te *volume.TransitionError
		_, _, err := s.BeginCascadeDelete(ctx, p, v.ID, volume.DeleteCascadeBegin)
		if !errors.As(err, &te) || !strings.Contains(te.Reason, snaps[1].ID+" is creating") {
			t.Fatalf("cascade with a creating snapshot: %v", err)
		}
		if got, _ := s.Volume(ctx, p, v.ID); got.Status != volume.StatusAvailable {
			t.Errorf("volume after the refusal: %s", got.Status)
		}
		if got, _ := s.Snapshot(ctx, p, snaps[0].ID); got.Status != volume.StatusAvailable {
			t.Errorf("snapshot after the refusal: %s", got.Status)
		}
		if _, err := s.TransitionSnapshot(ctx, p, snaps[1].ID, volume.SnapshotCreateFailed, store.SnapshotChange{}); err != nil {
			t.Fatal(err)
		}
		got, moved, err := s.BeginCascadeDelete(ctx, p, v.ID, volume.DeleteCascadeBegin)
		if err != nil || got.Status != volume.StatusDeleting || got.PreviousStatus != volume.StatusAvailable || len(moved) != 2 {
			t.Fatalf("cascade: %+v, %d snapshots, %v", got, len(moved), err)
		}
		for _, sn := range moved {
			if back, _ := s.Snapshot(ctx, p, sn.ID); sn.Status != volume.StatusDeleting || back.Status != volume.StatusDeleting {
				t.Errorf("snapshot %s: %s (stored %s), want deleting", sn.ID, sn.Status, back.Status)
			}
		}
		if _, _, err := s.BeginCascadeDelete(ctx, p, v.ID, volume.DeleteCascadeBegin); !errors.As(err, &te) || te.Current != volume.StatusDeleting {
			t.Errorf("a second cascade: %v", err)
		}
	})
}

// TestBeginCascadeDelete_sourceLock: no snapshot of the volume is deleted while a volume is
// being created from it; the cascade is refused, naming the snapshot, and nothing moves.
func TestBeginCascadeDelete_sourceLock(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		s := db.Open(t)
		ctx := t.Context()
		p := store.ProjectScope("p")
		src := addVolume(t, s, "p", 2)
		place(t, s, src.ID, "b", "pool")
		snap, err := s.CreateSnapshot(ctx, p, store.Snapshot{VolumeID: src.ID, UserID: "u"}, volume.SnapshotSource, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.TransitionSnapshot(ctx, p, snap.ID, volume.SnapshotCreateDone, store.SnapshotChange{}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateVolume(ctx, store.Volume{ProjectID: "p", UserID: "u", SizeBytes: 2 << 30, SnapshotID: snap.ID}, ""); err != nil {
			t.Fatal(err)
		}
		var te *volume.TransitionError
		_, _, err = s.BeginCascadeDelete(ctx, p, src.ID, volume.DeleteCascadeBegin)
		if !errors.As(err, &te) || !strings.Contains(te.Reason, snap.ID) || !strings.Contains(te.Reason, "being created from it") {
			t.Fatalf("cascade while a volume is made from its snapshot: %v", err)
		}
		if got, _ := s.Snapshot(ctx, p, snap.ID); got.Status != volume.StatusAvailable {
			t.Errorf("snapshot after the refusal: %s", got.Status)
		}
	})
}
