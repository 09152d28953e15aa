package store

import (
	"fmt"

	"github.com/kilnstorage/kiln/host/volume"
)

// The source lock. A volume created from a snapshot (SnapshotID) or cloned from a volume
// (SourceVolumeID) needs its source until the driver has made it. Cinder holds a node-local
// coordination lock named after the source for the length of the manager flow; Kiln keeps the
// reference in the database instead: the new volume's row, while it is `creating`, is the
// lock. CreateVolume checks the source's status (volume.RestoreSource, volume.CloneSource) and
// inserts the row in one transaction that holds the source's row lock, and every transition to
// `deleting` of a snapshot or a volume counts, under that same row lock, the `creating`
// volumes made from it and refuses while there is one. So a delete and a create from the same
// source are serialized on every host; any number of creates may share one source; and a crash
// cannot leave a lock behind, since the reference ends with the create (available, error or
// deleted) and recovery never leaves a volume `creating`.

// lockSource checks, under its row lock, the source the volume v is made from: it must be in
// v's project, in a status the source's guard allows and no smaller than v.
func (t *tx) lockSource(v Volume) error {
	sc := ProjectScope(v.ProjectID)
	var size int64
	switch {
	case v.SnapshotID != "" && v.SourceVolumeID != "":
		return invalid("a volume has one source: a snapshot or a volume, not both")
	case v.SnapshotID != "":
		snap, err := t.lockSnapshot(sc, v.SnapshotID)
		if err != nil {
			return err
		}
		if err := volume.RestoreSource.Check(snap.ID, snap.Status); err != nil {
			return err
		}
		size = snap.SizeBytes
	case v.SourceVolumeID != "":
		src, err := t.lockVolume(sc, v.SourceVolumeID)
		if err != nil {
			return err
		}
		if err := volume.CloneSource.Check(src.ID, src.Status); err != nil {
			return err
		}
		if src.Backend == "" {
			return &volume.TransitionError{Kind: volume.KindVolume, ID: src.ID, Transition: volume.CloneSource.Name(),
				Current: src.Status, Expected: volume.CloneSource.From(), Reason: "it is on no backend"}
		}
		size = src.SizeBytes
	default:
		return nil
	}
	if v.SizeBytes < size {
		return invalid("size %d bytes is below its source's %d bytes", v.SizeBytes, size)
	}
	return nil
}

// checkNoDependents refuses a transition of the row id to `deleting`, or an extend, while a
// volume is being created from it (see the source lock above): a copy's size was checked
// against the source's.
func (t *tx) checkNoDependents(kind volume.Kind, id string, tr volume.Transition, current volume.Status) error {
	if tr.To() != volume.StatusDeleting && tr.Name() != volume.ExtendBegin.Name() {
		return nil
	}
	col := "source_volid"
	if kind == volume.KindSnapshot {
		col = "snapshot_id"
	}
	n, err := t.count("SELECT COUNT(*) FROM volumes WHERE "+col+" = ? AND status = ? AND deleted_at IS NULL",
		id, volume.StatusCreating)
	if err == nil && n > 0 {
		err = &volume.TransitionError{Kind: kind, ID: id, Transition: tr.Name(), Current: current,
			Expected: tr.From(), Reason: fmt.Sprintf("%d volume(s) are being created from it", n)}
	}
	return err
}
