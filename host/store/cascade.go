package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/kilnstorage/kiln/host/volume"
)

// BeginCascadeDelete starts a cascade delete in one transaction: it moves the volume by tr
// (volume.DeleteCascadeBegin) and every live snapshot of it by volume.SnapshotDeleteBegin
// (available or error → deleting). Either all of them move or nothing does: a snapshot in
// another status refuses the whole delete with a *volume.TransitionError on the volume whose
// Reason names the snapshot (Cinder's volume_has_undeletable_snapshots_filter). It returns the
// volume and the snapshots, now deleting.
func (s *Store) BeginCascadeDelete(ctx context.Context, sc Scope, id string, tr volume.Transition) (Volume, []Snapshot, error) {
	op := fmt.Sprintf("%s volume %s", tr.Name(), id)
	if tr.Kind() != volume.KindVolume || tr.To() != volume.StatusDeleting || tr.NoSnapshots() {
		return Volume{}, nil, fmt.Errorf("%s: %w", op, invalid("%s cannot begin a cascade delete", tr.Name()))
	}
	var vol Volume
	var snaps []Snapshot
	err := s.write(ctx, op, func(t *tx) error {
		v, err := t.lockVolume(sc, id)
		if err != nil {
			return err
		}
		if err := t.checkVolume(v, tr); err != nil {
			return err
		}
		if snaps, err = t.lockVolumeSnapshots(v.ID); err != nil {
			return err
		}
		for i := range snaps {
			sn := &snaps[i]
			if volume.SnapshotDeleteBegin.Check(sn.ID, sn.Status) != nil {
				return &volume.TransitionError{Kind: volume.KindVolume, ID: v.ID, Transition: tr.Name(),
					Current: v.Status, Expected: tr.From(), Reason: fmt.Sprintf("its snapshot %s is %s, %s",
						sn.ID, sn.Status, volume.FormatExpected(volume.SnapshotDeleteBegin.From()))}
			}
			// The source lock: no snapshot goes while a volume is being made from it.
			if err := t.checkNoDependents(volume.KindSnapshot, sn.ID, volume.SnapshotDeleteBegin, sn.Status); err != nil {
				var te *volume.TransitionError
				if errors.As(err, &te) {
					return &volume.TransitionError{Kind: volume.KindVolume, ID: v.ID, Transition: tr.Name(),
						Current: v.Status, Expected: tr.From(), Reason: fmt.Sprintf("its snapshot %s: %s", sn.ID, te.Reason)}
				}
				return err
			}
			from := sn.Status
			sn.Status, sn.UpdatedAt = volume.StatusDeleting, t.now
			if err := t.updateSnapshot(*sn, from); err != nil {
				return err
			}
		}
		from := v.Status
		v.PreviousStatus, v.Status, v.UpdatedAt = from, tr.To(), t.now
		vol = v
		return t.updateVolume(v, from)
	})
	if err != nil {
		return Volume{}, nil, err
	}
	return vol, snaps, nil
}

// lockVolumeSnapshots reads (and locks) the live snapshots of a volume, oldest first.
func (t *tx) lockVolumeSnapshots(volumeID string) ([]Snapshot, error) {
	rows, err := t.query("SELECT "+snapshotColumns+" FROM snapshots WHERE volume_id = ? AND deleted_at IS NULL ORDER BY created_at, id"+t.d.forUpdate, volumeID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Snapshot
	for rows.Next() {
		sn, err := scanSnapshot(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sn)
	}
	return out, rows.Err()
}
