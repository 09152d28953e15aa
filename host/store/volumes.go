package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kilnstorage/kiln/host/volume"
)

// Volume is a volumes row.
type Volume struct {
	ID               string
	ProjectID        string
	UserID           string
	Name             string
	Description      string
	SizeBytes        int64
	Status           volume.Status
	PreviousStatus   volume.Status
	AvailabilityZone string
	VolumeTypeID     string
	// Backend and Pool say where the volume lives; empty until scheduled.
	Backend string
	Pool    string
	// ProviderData is what the driver returned, given back to it on every call.
	ProviderData   map[string]string
	Metadata       map[string]string
	SnapshotID     string
	SourceVolumeID string
	// Attempts counts scheduling attempts; Attempted lists the pools tried ("backend#pool").
	Attempts  int
	Attempted []string
	// Fault is the last error, shown to the user.
	Fault     string
	CreatedAt time.Time
	UpdatedAt time.Time
	DeletedAt time.Time
}

const volumeColumns = `id, project_id, user_id, name, description, size_bytes, status, previous_status,
	availability_zone, volume_type_id, backend, pool, provider_data, metadata, snapshot_id,
	source_volid, attempts, attempted, fault, created_at, updated_at, deleted_at`

func scanVolume(row scanner) (Volume, error) {
	var v Volume
	var typeID, snap, src sql.NullString
	var provider, meta, attempted string
	var created int64
	var updated, deleted sql.NullInt64
	err := row.Scan(&v.ID, &v.ProjectID, &v.UserID, &v.Name, &v.Description, &v.SizeBytes, &v.Status,
		&v.PreviousStatus, &v.AvailabilityZone, &typeID, &v.Backend, &v.Pool, &provider, &meta, &snap,
		&src, &v.Attempts, &attempted, &v.Fault, &created, &updated, &deleted)
	if err != nil {
		return Volume{}, err
	}
	v.VolumeTypeID, v.SnapshotID, v.SourceVolumeID = typeID.String, snap.String, src.String
	v.CreatedAt, v.UpdatedAt, v.DeletedAt = fromMicros(created), fromNullMicros(updated), fromNullMicros(deleted)
	if v.ProviderData, err = decodeMap(provider); err != nil {
		return Volume{}, err
	}
	if v.Metadata, err = decodeMap(meta); err != nil {
		return Volume{}, err
	}
	return v, json.Unmarshal([]byte(attempted), &v.Attempted)
}

// CreateVolume inserts v and commits its quota usage in the same transaction (Cinder's
// EntryCreateTask and QuotaCommitTask at once): the reservations flowID holds for the volume's
// resources are consumed, and usage they do not cover is checked against the limits. An empty
// ID gets a new one, an empty status is creating, an empty type is the default type. A volume
// with a SnapshotID or SourceVolumeID takes the source lock (sources.go): the source must be in
// the volume's project, allow volume.RestoreSource or volume.CloneSource, and be no larger.
func (s *Store) CreateVolume(ctx context.Context, v Volume, flowID string) (Volume, error) {
	if v.ID == "" {
		v.ID = NewID()
	}
	if v.Status == "" {
		v.Status = volume.StatusCreating
	}
	op := "create volume " + v.ID
	if v.ProjectID == "" || v.UserID == "" || v.SizeBytes <= 0 {
		return Volume{}, fmt.Errorf("%s: %w", op, invalid("a volume needs a project, a user and a positive size"))
	}
	if !slices.Contains(volume.Statuses(volume.KindVolume), v.Status) {
		return Volume{}, fmt.Errorf("%s: %w", op, invalid("status %q", v.Status))
	}
	err := s.write(ctx, op, func(t *tx) error {
		typeID, typeName, err := t.shareType(v.VolumeTypeID)
		if err != nil {
			return err
		}
		v.VolumeTypeID, v.CreatedAt, v.UpdatedAt, v.DeletedAt = typeID, t.now, time.Time{}, time.Time{}
		if err := t.lockSource(v); err != nil {
			return err
		}
		err = s.applyUsage(t, v.ProjectID, flowID, VolumeDeltas(typeName, v.SizeBytes), SizeGiB(v.SizeBytes))
		if err != nil {
			return err
		}
		return t.insertVolume(v)
	})
	if err != nil {
		return Volume{}, err
	}
	v.ProviderData, v.Metadata, v.Attempted = orEmpty(v.ProviderData), orEmpty(v.Metadata), orNone(v.Attempted)
	return v, nil
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func (t *tx) insertVolume(v Volume) error {
	attempted := v.Attempted
	if attempted == nil {
		attempted = []string{}
	}
	_, err := t.exec(`INSERT INTO volumes (`+volumeColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)`,
		v.ID, v.ProjectID, v.UserID, v.Name, v.Description, v.SizeBytes, v.Status, v.PreviousStatus,
		v.AvailabilityZone, nullString(v.VolumeTypeID), v.Backend, v.Pool, encodeMap(v.ProviderData),
		encodeMap(v.Metadata), nullString(v.SnapshotID), nullString(v.SourceVolumeID), v.Attempts,
		encodeJSON(attempted), v.Fault, micros(v.CreatedAt))
	if duplicate(err) {
		return fmt.Errorf("volume %s: %w", v.ID, ErrExists)
	}
	return err
}

// shareType locks a live volume type against deletion and change (the default type when id is
// empty) and returns its ID and name.
func (t *tx) shareType(id string) (string, string, error) {
	col, arg := "id", id
	if id == "" {
		col, arg = "name", DefaultTypeName
	}
	var typeID, name string
	err := t.queryRow("SELECT id, name FROM volume_types WHERE "+col+" = ? AND deleted_at IS NULL"+t.d.forShare,
		arg).Scan(&typeID, &name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", notFound("volume type", arg)
	}
	return typeID, name, err
}

// typeName returns the name of a volume type, deleted or not; "" for none.
func (t *tx) typeName(id string) (string, error) {
	if id == "" {
		return "", nil
	}
	var name string
	err := t.queryRow("SELECT name FROM volume_types WHERE id = ?", id).Scan(&name)
	return name, err
}

// Volume returns the live volume id if the scope sees it.
func (s *Store) Volume(ctx context.Context, sc Scope, id string) (Volume, error) {
	where, args, err := sc.where("v")
	if err == nil {
		row := s.queryRow(ctx, "SELECT "+volumeColumns+" FROM volumes v WHERE v.id = ? AND v.deleted_at IS NULL AND "+where,
			append([]any{id}, args...)...)
		var v Volume
		if v, err = scanVolume(row); errors.Is(err, sql.ErrNoRows) {
			err = notFound("volume", id)
		}
		if err == nil {
			return v, nil
		}
	}
	return Volume{}, fmt.Errorf("get volume %s: %w", id, err)
}

// lockVolume reads the live volume id for a change, locking its row (PostgreSQL).
func (t *tx) lockVolume(sc Scope, id string) (Volume, error) {
	v, err := scanVolume(t.queryRow("SELECT "+volumeColumns+" FROM volumes WHERE id = ? AND deleted_at IS NULL"+t.d.forUpdate, id))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !sc.sees(v.ProjectID)) {
		return Volume{}, notFound("volume", id)
	}
	return v, err
}
