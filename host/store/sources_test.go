package store_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/store/storetest"
	"github.com/kilnstorage/kiln/host/volume"
)

// TestSourceLock: a volume is created from a snapshot or cloned from a volume only when the
// source is in the project, in a status its guard allows and no larger; while the new volume
// is `creating`, the source cannot begin a delete; once it is not, the source can.
func TestSourceLock(t *testing.T) {
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
		newVol := func(project string, gib int64, snapID, srcID string) (store.Volume, error) {
			return s.CreateVolume(ctx, store.Volume{ProjectID: project, UserID: "u", SizeBytes: gib * (1 << 30),
				SnapshotID: snapID, SourceVolumeID: srcID}, "")
		}
		var te *volume.TransitionError
		if _, err := newVol("p", 2, snap.ID, ""); !errors.As(err, &te) || te.Transition != "restore-source" {
			t.Fatalf("from a creating snapshot: %v, want a restore-source refusal", err)
		}
		if _, err := s.TransitionSnapshot(ctx, p, snap.ID, volume.SnapshotCreateDone, store.SnapshotChange{}); err != nil {
			t.Fatal(err)
		}
		for name, c := range map[string]struct {
			project      string
			gib          int64
			snap, source string
			want         error
		}{
			"another project's snapshot": {"q", 2, snap.ID, "", store.ErrNotFound},
			"another project's volume":   {"q", 2, "", src.ID, store.ErrNotFound},
			"smaller than the snapshot":  {"p", 1, snap.ID, "", store.ErrInvalid},
			"smaller than the volume":    {"p", 1, "", src.ID, store.ErrInvalid},
			"two sources":                {"p", 2, snap.ID, src.ID, store.ErrInvalid},
			"a missing snapshot":         {"p", 2, "nope", "", store.ErrNotFound},
		} {
			if _, err := newVol(c.project, c.gib, c.snap, c.source); !errors.Is(err, c.want) {
				t.Errorf("%s: %v, want %v", name, err, c.want)
			}
		}
		restored, err := newVol("p", 3, snap.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		clone, err := newVol("p", 2, "", src.ID)
		if err != nil {
			t.Fatal(err)
		}
		if restored.SnapshotID != snap.ID || clone.SourceVolumeID != src.ID {
			t.Errorf("sources not recorded: %q, %q", restored.SnapshotID, clone.SourceVolumeID)
		}
		// While they are creating, neither source may begin a delete, forced or not.
		for _, tr := range []volume.Transition{volume.SnapshotDeleteBegin, volume.SnapshotForceDelete} {
			_, err := s.TransitionSnapshot(ctx, p, snap.ID, tr, store.SnapshotChange{})
			if !errors.As(err, &te) || !strings.Contains(te.Reason, "being created from it") {
				t.Errorf("%s of a snapshot a volume is created from: %v", tr.Name(), err)
			}
		}
		if _, err := s.TransitionSnapshot(ctx, p, snap.ID, volume.SnapshotDestroy, store.SnapshotChange{}); !errors.As(err, &te) {
			t.Errorf("destroy of an available snapshot: %v", err)
		}
		if _, err := s.TransitionSnapshot(ctx, p, snap.ID, volume.SnapshotDeleteBegin, store.SnapshotChange{}); !errors.As(err, &te) {
			t.Fatalf("the snapshot began a delete: %v", err)
		}
		// Nor may the cloned volume grow under its clone, whose size was checked against it.
		if _, err := s.TransitionVolume(ctx, p, src.ID, volume.ExtendBegin, store.VolumeChange{}); !errors.As(err, &te) ||
			!strings.Contains(te.Reason, "being created from it") {
			t.Errorf("extend of a volume being cloned: %v", err)
		}
		// The source volume has a snapshot too; the clone lock is checked first.
		_, err = s.TransitionVolume(ctx, p, src.ID, volume.ForceDelete, store.VolumeChange{})
		if !errors.As(err, &te) || !strings.Contains(te.Reason, "1 volume(s) are being created") {
			t.Errorf("force delete of a volume a clone is made from: %v", err)
		}
		// The creates end (one in error, one available): the locks are gone.
		if _, err := s.TransitionVolume(ctx, p, restored.ID, volume.CreateFailed, store.VolumeChange{}); err != nil {
			t.Fatal(err)
		}
		place(t, s, clone.ID, "b", "pool")
		if _, err := s.TransitionSnapshot(ctx, p, snap.ID, volume.SnapshotDeleteBegin, store.SnapshotChange{}); err != nil {
			t.Errorf("delete of the snapshot after the create ended: %v", err)
		}
		if _, err := s.TransitionSnapshot(ctx, p, snap.ID, volume.SnapshotDestroy, store.SnapshotChange{}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.TransitionVolume(ctx, p, src.ID, volume.DeleteBegin, store.VolumeChange{}); err != nil {
			t.Errorf("delete of the source after the clone ended: %v", err)
		}
		checkClean(t, s)
	})
}
