package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/kilnstorage/kiln/host/volume"
)

// Snapshot is a snapshots row. Its size, type, backend and pool are its volume's.
type Snapshot struct {
	ID           string
	ProjectID    string
	UserID       string
	VolumeID     string
	Name         string
	Description  string
	Status       volume.Status
	SizeBytes    int64
	VolumeTypeID string
	Backend      string
	Pool         string
	ProviderData map[string]string
	Metadata     map[string]string
	Fault        string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	DeletedAt    time.Time
}

const snapshotColumns = `id, project_id, user_id, volume_id, name, description, status, size_bytes,
	volume_type_id, backend, pool, provider_data, metadata, fault, created_at, updated_at, deleted_at`

func scanSnapshot(row scanner) (Snapshot, error) {
	var s Snapshot
	var typeID sql.NullString
	var provider, meta string
	var created int64
	var updated, deleted sql.NullInt64
	err := row.Scan(&s.ID, &s.ProjectID, &s.UserID, &s.VolumeID, &s.Name, &s.Description, &s.Status,
		&s.SizeBytes, &typeID, &s.Backend, &s.Pool, &provider, &meta, &s.Fault, &created, &updated, &deleted)
	if err != nil {
		return Snapshot{}, err
	}
	s.VolumeTypeID = typeID.String
	s.CreatedAt, s.UpdatedAt, s.DeletedAt = fromMicros(created), fromNullMicros(updated), fromNullMicros(deleted)
	if s.ProviderData, err = decodeMap(provider); err != nil {
		return Snapshot{}, err
	}
	s.Metadata, err = decodeMap(meta)
	return s, err
}

// CreateSnapshot inserts snap (status creating) in one transaction with a compare-and-swap on
// its volume: source (volume.SnapshotSource, or volume.SnapshotSourceForce) must allow the
// volume's status, and the volume must be on a backend. Cinder checks the volume twice instead.
// The snapshot's quota usage is committed in the same transaction, consuming the reservations
// flowID holds. An empty ID gets a new one; an empty project is the volume's.
func (s *Store) CreateSnapshot(ctx context.Context, sc Scope, snap Snapshot, source volume.Transition, flowID string) (Snapshot, error) {
	if snap.ID == "" {
		snap.ID = NewID()
	}
	op := "create snapshot " + snap.ID
	if source.Kind() != volume.KindVolume || !source.Guard() {
		return Snapshot{}, fmt.Errorf("%s: %w", op, invalid("%s is not a volume guard", source.Name()))
	}
	err := s.write(ctx, op, func(t *tx) error {
		v, err := t.lockVolume(sc, snap.VolumeID)
		if err != nil {
			return err
		}
		if err := source.Check(v.ID, v.Status); err != nil {
			return err
		}
		if v.Backend == "" {
			return &volume.TransitionError{Kind: volume.KindVolume, ID: v.ID, Transition: source.Name(),
				Current: v.Status, Expected: source.From(), Reason: "it is on no backend"}
		}
		snap.ProjectID = cmp.Or(snap.ProjectID, v.ProjectID)
		snap.Status, snap.SizeBytes, snap.VolumeTypeID = volume.StatusCreating, v.SizeBytes, v.VolumeTypeID
		snap.Backend, snap.Pool, snap.CreatedAt = v.Backend, v.Pool, t.now
		typeName, err := t.typeName(v.VolumeTypeID)
		if err != nil {
			return err
		}
		if err := s.applyUsage(t, snap.ProjectID, flowID, s.SnapshotDeltas(typeName, v.SizeBytes), 0); err != nil {
			return err
		}
		return t.insertSnapshot(snap)
	})
	if err != nil {
		return Snapshot{}, err
	}
	snap.ProviderData, snap.Metadata = orEmpty(snap.ProviderData), orEmpty(snap.Metadata)
	return snap, nil
}

func (t *tx) insertSnapshot(s Snapshot) error {
	_, err := t.exec(`INSERT INTO snapshots (`+snapshotColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)`,
		s.ID, s.ProjectID, s.UserID, s.VolumeID, s.Name, s.Description, s.Status, s.SizeBytes,
		nullString(s.VolumeTypeID), s.Backend, s.Pool, encodeMap(s.ProviderData), encodeMap(s.Metadata),
		s.Fault, micros(s.CreatedAt))
	if duplicate(err) {
		return fmt.Errorf("snapshot %s: %w", s.ID, ErrExists)
	}
	return err
}

// Snapshot returns the live snapshot id if the scope sees it.
func (s *Store) Snapshot(ctx context.Context, sc Scope, id string) (Snapshot, error) {
	where, args, err := sc.where("s")
	if err == nil {
		row := s.queryRow(ctx, "SELECT "+snapshotColumns+" FROM snapshots s WHERE s.id = ? AND s.deleted_at IS NULL AND "+where,
			append([]any{id}, args...)...)
		var snap Snapshot
		if snap, err = scanSnapshot(row); errors.Is(err, sql.ErrNoRows) {
			err = notFound("snapshot", id)
		}
		if err == nil {
			return snap, nil
		}
	}
	return Snapshot{}, fmt.Errorf("get snapshot %s: %w", id, err)
}

func (t *tx) lockSnapshot(sc Scope, id string) (Snapshot, error) {
	s, err := scanSnapshot(t.queryRow("SELECT "+snapshotColumns+" FROM snapshots WHERE id = ? AND deleted_at IS NULL"+t.d.forUpdate, id))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !sc.sees(s.ProjectID)) {
		return Snapshot{}, notFound("snapshot", id)
	}
	return s, err
}

// SnapshotChange is what a snapshot transition writes besides the status. Zero fields change
// nothing.
type SnapshotChange struct {
	ProviderData map[string]string
	Fault        *string
}

// TransitionSnapshot applies tr to the snapshot as one compare-and-swap, as TransitionVolume
// does for volumes. A transition to deleted soft-deletes the row and gives its usage back; one
// to deleting is refused while a volume is being created from the snapshot (sources.go).
func (s *Store) TransitionSnapshot(ctx context.Context, sc Scope, id string, tr volume.Transition, ch SnapshotChange) (Snapshot, error) {
	op := fmt.Sprintf("%s snapshot %s", tr.Name(), id)
	if tr.Kind() != volume.KindSnapshot {
		return Snapshot{}, fmt.Errorf("%s: %w", op, invalid("%s is not a snapshot transition", tr.Name()))
	}
	var out Snapshot
	err := s.write(ctx, op, func(t *tx) error {
		snap, err := t.lockSnapshot(sc, id)
		if err != nil {
			return err
		}
		if err := tr.Check(id, snap.Status); err != nil {
			return err
		}
		if err := t.checkNoDependents(volume.KindSnapshot, id, tr, snap.Status); err != nil {
			return err
		}
		if tr.To() == volume.StatusDeleted {
			typeName, err := t.typeName(snap.VolumeTypeID)
			if err != nil {
				return err
			}
			if err := s.applyUsage(t, snap.ProjectID, "", negate(s.SnapshotDeltas(typeName, snap.SizeBytes)), 0); err != nil {
				return err
			}
			snap.DeletedAt = t.now
		}
		from := snap.Status
		if ch.ProviderData != nil {
			snap.ProviderData = maps.Clone(ch.ProviderData)
		}
		if ch.Fault != nil {
			snap.Fault = *ch.Fault
		}
		if !tr.Guard() {
			snap.Status = tr.To()
		}
		snap.UpdatedAt = t.now
		out = snap
		return t.updateSnapshot(snap, from)
	})
	return out, err
}

func (t *tx) updateSnapshot(s Snapshot, from volume.Status) error {
	return t.execOne(`UPDATE snapshots SET name = ?, description = ?, status = ?, provider_data = ?,
		metadata = ?, fault = ?, updated_at = ?, deleted_at = ? WHERE id = ? AND status = ?`,
		s.Name, s.Description, s.Status, encodeMap(s.ProviderData), encodeMap(s.Metadata), s.Fault,
		micros(s.UpdatedAt), nullMicros(s.DeletedAt), s.ID, from)
}

// UpdateSnapshot changes a snapshot's name, description or metadata and returns the snapshot.
func (s *Store) UpdateSnapshot(ctx context.Context, sc Scope, id string, u Update) (Snapshot, error) {
	var out Snapshot
	err := s.write(ctx, "update snapshot "+id, func(t *tx) error {
		snap, err := t.lockSnapshot(sc, id)
		if err != nil {
			return err
		}
		snap.Metadata = u.apply(&snap.Name, &snap.Description, snap.Metadata)
		snap.UpdatedAt = t.now
		out = snap
		return t.updateSnapshot(snap, snap.Status)
	})
	return out, err
}
