package store

import (
	"context"
	"fmt"
	"maps"

	"github.com/kilnstorage/kiln/host/volume"
)

// VolumeChange is what a volume transition writes besides the status. Zero fields change
// nothing.
type VolumeChange struct {
	// SizeBytes is the new size (extend-done). The usage it adds is committed in the same
	// transaction, consuming the reservations FlowID holds.
	SizeBytes int64
	FlowID    string
	Backend   *string
	Pool      *string
	// ProviderData replaces the driver's data when not nil.
	ProviderData map[string]string
	Fault        *string
	// Attempt records a scheduling attempt on a pool ("backend#pool"): Attempts grows by one
	// and the pool is appended to Attempted.
	Attempt string
}

// TransitionVolume applies tr to the volume as one compare-and-swap in one transaction: it reads
// the row (locked on PostgreSQL), refuses with a *volume.TransitionError unless tr allows its
// status (and, for delete transitions, unless it has no live snapshot), writes the new status
// with ch, and commits only if the status is still the one it read. The previous status is
// kept in PreviousStatus.
//
// A transition to deleted (destroy, discard) soft-deletes the row and gives its quota usage
// back in the same transaction: do not also reserve negative deltas for it. A transition that
// vacates the volume (create-failed, reschedule, discard, destroy) releases its capacity claims
// in the same transaction: a failed or deleted volume never leaves claims behind.
func (s *Store) TransitionVolume(ctx context.Context, sc Scope, id string, tr volume.Transition, ch VolumeChange) (Volume, error) {
	op := fmt.Sprintf("%s volume %s", tr.Name(), id)
	if tr.Kind() != volume.KindVolume {
		return Volume{}, fmt.Errorf("%s: %w", op, invalid("%s is not a volume transition", tr.Name()))
	}
	var out Volume
	err := s.write(ctx, op, func(t *tx) error {
		v, err := t.lockVolume(sc, id)
		if err != nil {
			return err
		}
		if err := t.checkVolume(v, tr); err != nil {
			return err
		}
		if err := s.volumeUsage(t, v, tr, ch); err != nil {
			return err
		}
		if tr.Vacates() {
			if err := t.releaseClaims("volume_id = ?", v.ID); err != nil {
				return err
			}
		}
		if tr.To() == volume.StatusDeleted {
			v.DeletedAt = t.now
		}
		from := v.Status
		ch.apply(&v)
		if !tr.Guard() {
			v.PreviousStatus, v.Status = from, tr.To()
		}
		v.UpdatedAt = t.now
		out = v
		return t.updateVolume(v, from)
	})
	return out, err
}

// checkVolume applies tr's checks to the locked row v.
func (t *tx) checkVolume(v Volume, tr volume.Transition) error {
	if err := tr.Check(v.ID, v.Status); err != nil {
		return err
	}
	if err := t.checkNoDependents(volume.KindVolume, v.ID, tr, v.Status); err != nil {
		return err
	}
	if !tr.NoSnapshots() {
		return nil
	}
	n, err := t.count("SELECT COUNT(*) FROM snapshots WHERE volume_id = ? AND deleted_at IS NULL", v.ID)
	if err == nil && n > 0 {
		err = &volume.TransitionError{Kind: volume.KindVolume, ID: v.ID, Transition: tr.Name(),
			Current: v.Status, Expected: tr.From(), Reason: fmt.Sprintf("it has %d snapshots", n)}
	}
	return err
}

// volumeUsage moves the quota usage a transition changes: a larger size, or the whole volume
// when the row goes.
func (s *Store) volumeUsage(t *tx, v Volume, tr volume.Transition, ch VolumeChange) error {
	grow := ch.SizeBytes != 0 && ch.SizeBytes != v.SizeBytes
	if !grow && tr.To() != volume.StatusDeleted {
		return nil
	}
	typeName, err := t.typeName(v.VolumeTypeID)
	if err != nil {
		return err
	}
	if tr.To() == volume.StatusDeleted {
		return s.applyUsage(t, v.ProjectID, "", negate(VolumeDeltas(typeName, v.SizeBytes)), 0)
	}
	if ch.SizeBytes < v.SizeBytes {
		return invalid("new size %d is below the volume's %d bytes", ch.SizeBytes, v.SizeBytes)
	}
	d := ExtendDeltas(typeName, v.SizeBytes, ch.SizeBytes)
	return s.applyUsage(t, v.ProjectID, ch.FlowID, d, SizeGiB(ch.SizeBytes))
}

func (ch VolumeChange) apply(v *Volume) {
	if ch.SizeBytes != 0 {
		v.SizeBytes = ch.SizeBytes
	}
	if ch.Backend != nil {
		v.Backend = *ch.Backend
	}
	if ch.Pool != nil {
		v.Pool = *ch.Pool
	}
	if ch.ProviderData != nil {
		v.ProviderData = maps.Clone(ch.ProviderData)
	}
	if ch.Fault != nil {
		v.Fault = *ch.Fault
	}
	if ch.Attempt != "" {
		v.Attempts++
		v.Attempted = append(v.Attempted, ch.Attempt)
	}
}

// updateVolume writes v if its status is still from.
func (t *tx) updateVolume(v Volume, from volume.Status) error {
	return t.execOne(`UPDATE volumes SET name = ?, description = ?, size_bytes = ?, status = ?,
		previous_status = ?, backend = ?, pool = ?, provider_data = ?, metadata = ?, attempts = ?,
		attempted = ?, fault = ?, updated_at = ?, deleted_at = ? WHERE id = ? AND status = ?`,
		v.Name, v.Description, v.SizeBytes, v.Status, v.PreviousStatus, v.Backend, v.Pool,
		encodeMap(v.ProviderData), encodeMap(v.Metadata), v.Attempts, encodeJSON(orNone(v.Attempted)),
		v.Fault, micros(v.UpdatedAt), nullMicros(v.DeletedAt), v.ID, from)
}

func orNone(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Update is a change of a volume's or snapshot's name, description or metadata. Nil fields
// change nothing.
type Update struct {
	Name        *string
	Description *string
	// Metadata is merged into the metadata, or replaces it all with ReplaceMetadata.
	Metadata        map[string]string
	ReplaceMetadata bool
	// DeleteMetadata lists keys to remove.
	DeleteMetadata []string
}

func (u Update) apply(name, description *string, meta map[string]string) map[string]string {
	if u.Name != nil {
		*name = *u.Name
	}
	if u.Description != nil {
		*description = *u.Description
	}
	if u.ReplaceMetadata {
		meta = map[string]string{}
	}
	maps.Copy(meta, u.Metadata)
	for _, k := range u.DeleteMetadata {
		delete(meta, k)
	}
	return meta
}

// UpdateVolume changes a volume's name, description or metadata in one transaction, guarded by
// volume.Update (refused in maintenance), and returns the volume.
func (s *Store) UpdateVolume(ctx context.Context, sc Scope, id string, u Update) (Volume, error) {
	var out Volume
	err := s.write(ctx, "update volume "+id, func(t *tx) error {
		v, err := t.lockVolume(sc, id)
		if err != nil {
			return err
		}
		if err := volume.Update.Check(id, v.Status); err != nil {
			return err
		}
		v.Metadata = u.apply(&v.Name, &v.Description, v.Metadata)
		v.UpdatedAt = t.now
		out = v
		return t.updateVolume(v, v.Status)
	})
	return out, err
}
