package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// DefaultTypeName is the volume type every store has and nobody can delete (Cinder's).
const DefaultTypeName = "__DEFAULT__"

// VolumeType is a volume type with its extra specs.
type VolumeType struct {
	ID          string
	Name        string
	Description string
	IsPublic    bool
	ExtraSpecs  map[string]string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// NewID returns a new UUID, the form of every Kiln ID: version 7 (RFC 9562), 48 bits of Unix
// milliseconds then 74 random bits. Clients see an opaque UUID as from Cinder; the store sees
// keys that grow with time, so the rows and index entries of the volumes being made (volumes,
// claims, events, reservations) sit on the last pages of each index instead of a random page
// each, and a commit writes a few pages for many volumes instead of one per volume per index.
func NewID() string {
	b := timeOrdered(time.Now())
	b[6] = b[6]&0x0f | 0x70
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// timeOrdered returns 16 bytes: t's Unix milliseconds, big-endian in the first 6, then random.
func timeOrdered(t time.Time) [16]byte {
	var b [16]byte
	rand.Read(b[6:])
	ms := uint64(t.UnixMilli())
	for i := range 6 {
		b[i] = byte(ms >> (40 - 8*i))
	}
	return b
}

func (s *Store) ensureDefaultType(ctx context.Context) error {
	return s.write(ctx, "create the default volume type", func(t *tx) error {
		_, err := t.exec(`INSERT INTO volume_types (id, name, description, is_public, created_at)
			VALUES (?, ?, 'Default Volume Type', 1, ?) ON CONFLICT DO NOTHING`,
			NewID(), DefaultTypeName, micros(t.now))
		return err
	})
}

// CreateVolumeType inserts vt with its extra specs; an empty ID gets a new one.
func (s *Store) CreateVolumeType(ctx context.Context, vt VolumeType) (VolumeType, error) {
	if vt.ID == "" {
		vt.ID = NewID()
	}
	err := s.write(ctx, "create volume type "+vt.Name, func(t *tx) error {
		vt.CreatedAt, vt.UpdatedAt = t.now, time.Time{}
		_, err := t.exec(`INSERT INTO volume_types (id, name, description, is_public, created_at)
			VALUES (?, ?, ?, ?, ?)`, vt.ID, vt.Name, vt.Description, boolInt(vt.IsPublic), micros(t.now))
		if duplicate(err) {
			return fmt.Errorf("volume type %s: %w", vt.Name, ErrExists)
		}
		if err != nil {
			return err
		}
		return t.putSpecs(vt.ID, vt.ExtraSpecs)
	})
	if vt.ExtraSpecs == nil {
		vt.ExtraSpecs = map[string]string{}
	}
	return vt, err
}

func (t *tx) putSpecs(typeID string, specs map[string]string) error {
	for k, v := range specs {
		_, err := t.exec(`INSERT INTO volume_type_extra_specs (volume_type_id, key, value) VALUES (?, ?, ?)
			ON CONFLICT (volume_type_id, key) DO UPDATE SET value = excluded.value`, typeID, k, v)
		if err != nil {
			return err
		}
	}
	return nil
}

const typeColumns = "id, name, description, is_public, created_at, updated_at"

// VolumeType returns the live volume type with that ID.
func (s *Store) VolumeType(ctx context.Context, id string) (VolumeType, error) {
	return s.oneType(ctx, "id", id)
}

// VolumeTypeByName returns the live volume type with that name.
func (s *Store) VolumeTypeByName(ctx context.Context, name string) (VolumeType, error) {
	return s.oneType(ctx, "name", name)
}

func (s *Store) oneType(ctx context.Context, col, v string) (VolumeType, error) {
	vts, err := s.types(ctx, "WHERE deleted_at IS NULL AND "+col+" = ?", v)
	if err == nil && len(vts) == 0 {
		err = notFound("volume type", v)
	}
	if err != nil {
		return VolumeType{}, fmt.Errorf("get volume type: %w", err)
	}
	return vts[0], nil
}

// VolumeTypeName returns the name of the type id, deleted or not: what a volume's view shows.
// Names are cached for typeNameTTL: every volume view asks, and a type's name changes only
// while no volume has the type (UpdateVolumeType), which this process forgets at once and
// another host's store within the TTL.
func (s *Store) VolumeTypeName(ctx context.Context, id string) (string, error) {
	if c, ok := s.typeNames.Load(id); ok && time.Since(c.(cachedName).at) < typeNameTTL {
		return c.(cachedName).name, nil
	}
	var name string
	if err := s.queryRow(ctx, "SELECT name FROM volume_types WHERE id = ?", id).Scan(&name); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return "", notFound("volume type", id)
		}
		return "", fmt.Errorf("volume type %s: %w", id, err)
	}
	s.typeNames.Store(id, cachedName{name: name, at: time.Now()})
	return name, nil
}

// typeNameTTL bounds how long a volume type's name is cached.
const typeNameTTL = 10 * time.Second

type cachedName struct {
	name string
	at   time.Time
}

// VolumeTypes lists the live volume types by name.
func (s *Store) VolumeTypes(ctx context.Context) ([]VolumeType, error) {
	vts, err := s.types(ctx, "WHERE deleted_at IS NULL ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("list volume types: %w", err)
	}
	return vts, nil
}

func (s *Store) types(ctx context.Context, where string, args ...any) ([]VolumeType, error) {
	rows, err := s.query(ctx, "SELECT "+typeColumns+" FROM volume_types "+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []VolumeType
	index := map[string]int{}
	for rows.Next() {
		var vt VolumeType
		var created int64
		var updated sql.NullInt64
		if err := rows.Scan(&vt.ID, &vt.Name, &vt.Description, &vt.IsPublic, &created, &updated); err != nil {
			return nil, err
		}
		vt.CreatedAt, vt.UpdatedAt, vt.ExtraSpecs = fromMicros(created), fromNullMicros(updated), map[string]string{}
		index[vt.ID] = len(out)
		out = append(out, vt)
	}
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	return out, s.loadSpecs(ctx, out, index)
}

func (s *Store) loadSpecs(ctx context.Context, vts []VolumeType, index map[string]int) error {
	ids := make([]any, len(vts))
	for i, vt := range vts {
		ids[i] = vt.ID
	}
	rows, err := s.query(ctx, `SELECT volume_type_id, key, value FROM volume_type_extra_specs
		WHERE volume_type_id IN (`+placeholders(len(ids))+`)`, ids...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, k, v string
		if err := rows.Scan(&id, &k, &v); err != nil {
			return err
		}
		vts[index[id]].ExtraSpecs[k] = v
	}
	return rows.Err()
}

// UpdateVolumeType changes the name, description and visibility of a live type. A new name is
// refused while the type has live volumes, snapshots or reservations (the per-type quota
// resources are named after it); its limits move to the new name.
func (s *Store) UpdateVolumeType(ctx context.Context, vt VolumeType) error {
	defer s.typeNames.Delete(vt.ID)
	return s.write(ctx, "update volume type "+vt.ID, func(t *tx) error {
		var old string
		err := t.queryRow("SELECT name FROM volume_types WHERE id = ? AND deleted_at IS NULL"+t.d.forUpdate, vt.ID).Scan(&old)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("volume type", vt.ID)
		}
		if err != nil {
			return err
		}
		if old != vt.Name {
			if err := t.renameType(vt.ID, old, vt.Name); err != nil {
				return err
			}
		}
		_, err = t.exec(`UPDATE volume_types SET name = ?, description = ?, is_public = ?, updated_at = ?
			WHERE id = ?`, vt.Name, vt.Description, boolInt(vt.IsPublic), micros(t.now), vt.ID)
		if duplicate(err) {
			return fmt.Errorf("volume type %s: %w", vt.Name, ErrExists)
		}
		return err
	})
}

func (t *tx) renameType(id, old, name string) error {
	if old == DefaultTypeName {
		return invalid("the default volume type cannot be renamed")
	}
	if err := t.typeUnused(id); err != nil {
		return err
	}
	var held int
	err := t.queryRow("SELECT COUNT(*) FROM reservations WHERE resource IN (?, ?, ?)",
		typeResources(old)...).Scan(&held)
	if err != nil || held > 0 {
		return errors.Join(err, fmt.Errorf("volume type %s has reservations: %w", old, ErrInUse))
	}
	if _, err := t.exec("DELETE FROM quota_usages WHERE resource IN (?, ?, ?)", typeResources(old)...); err != nil {
		return err
	}
	for i, r := range typeResources(old) {
		to := typeResources(name)[i]
		for _, table := range []string{"quotas", "quota_classes"} {
			if _, err := t.exec("UPDATE "+table+" SET resource = ? WHERE resource = ?", to, r); err != nil {
				return err
			}
		}
	}
	return nil
}

// typeUnused returns ErrInUse when a live volume or snapshot has the type.
func (t *tx) typeUnused(id string) error {
	var n int
	err := t.queryRow(`SELECT (SELECT COUNT(*) FROM volumes WHERE volume_type_id = ? AND deleted_at IS NULL)
		+ (SELECT COUNT(*) FROM snapshots WHERE volume_type_id = ? AND deleted_at IS NULL)`, id, id).Scan(&n)
	if err == nil && n > 0 {
		err = fmt.Errorf("volume type %s is used by %d volumes and snapshots: %w", id, n, ErrInUse)
	}
	return err
}

// DeleteVolumeType soft-deletes a type no live volume or snapshot uses; the default type stays.
func (s *Store) DeleteVolumeType(ctx context.Context, id string) error {
	return s.write(ctx, "delete volume type "+id, func(t *tx) error {
		var name string
		err := t.queryRow("SELECT name FROM volume_types WHERE id = ? AND deleted_at IS NULL"+t.d.forUpdate, id).Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("volume type", id)
		}
		if err != nil {
			return err
		}
		if name == DefaultTypeName {
			return invalid("the default volume type cannot be deleted")
		}
		if err := t.typeUnused(id); err != nil {
			return err
		}
		return t.execOne("UPDATE volume_types SET deleted_at = ? WHERE id = ?", micros(t.now), id)
	})
}

// SetExtraSpecs adds or replaces extra specs of a type that no live volume or snapshot uses
// (Cinder refuses changing the specs of a type in use).
func (s *Store) SetExtraSpecs(ctx context.Context, typeID string, specs map[string]string) error {
	return s.write(ctx, "set extra specs of volume type "+typeID, func(t *tx) error {
		if err := t.lockUnusedType(typeID); err != nil {
			return err
		}
		return t.putSpecs(typeID, specs)
	})
}

// DeleteExtraSpec removes one extra spec of a type that no live volume or snapshot uses.
func (s *Store) DeleteExtraSpec(ctx context.Context, typeID, key string) error {
	return s.write(ctx, "delete extra spec "+key+" of volume type "+typeID, func(t *tx) error {
		if err := t.lockUnusedType(typeID); err != nil {
			return err
		}
		res, err := t.exec("DELETE FROM volume_type_extra_specs WHERE volume_type_id = ? AND key = ?", typeID, key)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("extra spec", key)
		}
		return nil
	})
}

func (t *tx) lockUnusedType(id string) error {
	var one int
	err := t.queryRow("SELECT 1 FROM volume_types WHERE id = ? AND deleted_at IS NULL"+t.d.forUpdate, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound("volume type", id)
	}
	if err != nil {
		return err
	}
	return t.typeUnused(id)
}
