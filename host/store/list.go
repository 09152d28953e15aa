package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/kilnstorage/kiln/host/volume"
)

// SortKey is one key of a list's order.
type SortKey struct {
	Key  string
	Desc bool
}

// ParseSort reads Cinder's sort parameter, "key[:asc|desc][,key…]"; a key without a direction
// is descending, as in Cinder. Whether each key is allowed is checked by the list.
func ParseSort(s string) ([]SortKey, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []SortKey
	for part := range strings.SplitSeq(s, ",") {
		key, dir, _ := strings.Cut(part, ":")
		key, dir = strings.TrimSpace(key), strings.TrimSpace(dir)
		if key == "" {
			return nil, invalid("empty sort key in %q", s)
		}
		switch dir {
		case "", "desc":
			out = append(out, SortKey{Key: key, Desc: true})
		case "asc":
			out = append(out, SortKey{Key: key})
		default:
			return nil, invalid("unknown sort direction %q, must be 'desc' or 'asc'", dir)
		}
	}
	return out, nil
}

// ListOptions are a list's order and page.
type ListOptions struct {
	// Sort is the order; Cinder's created_at and id are appended (in the first key's direction)
	// when missing, so the order is total. Empty is created_at desc, id desc.
	Sort []SortKey
	// Limit bounds the page; 0 is no bound.
	Limit int
	// Marker is the ID of the last row of the previous page; the page starts after it.
	Marker string
}

// listQuery builds one keyset-paginated SELECT over a table aliased "r".
type listQuery struct {
	table, columns string
	// keys maps each allowed sort key to its column expression.
	keys  map[string]string
	where []string
	args  []any
}

func (q *listQuery) filter(cond string, args ...any) {
	q.where = append(q.where, cond)
	q.args = append(q.args, args...)
}

// metadata adds one condition per pair: the row's metadata JSON has that key with that value.
func (q *listQuery) metadata(d dialect, meta map[string]string) {
	for _, k := range sortedKeys(meta) {
		q.filter("EXISTS (SELECT 1 FROM "+fmt.Sprintf(d.jsonEach, "r.metadata")+" m WHERE m.key = ? AND m.value = ?)",
			k, meta[k])
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// order completes the sort keys as Cinder's process_sort_params does and checks them.
func (q *listQuery) order(sort []SortKey) ([]SortKey, error) {
	if len(sort) == 0 {
		return []SortKey{{"created_at", true}, {"id", true}}, nil
	}
	out := slices.Clone(sort)
	for _, k := range out {
		if _, ok := q.keys[k.Key]; !ok {
			return nil, invalid("invalid sort key %q", k.Key)
		}
	}
	for _, def := range []string{"created_at", "id"} {
		if !slices.ContainsFunc(out, func(k SortKey) bool { return q.keys[k.Key] == q.keys[def] }) {
			out = append(out, SortKey{Key: def, Desc: sort[0].Desc})
		}
	}
	return out, nil
}

// run runs the query in t: the page after the marker, in order.
func (q *listQuery) run(t *tx, sc Scope, o ListOptions) (*sql.Rows, error) {
	if o.Limit < 0 {
		return nil, invalid("limit %d: want 0 (no limit) or more", o.Limit)
	}
	scope, scopeArgs, err := sc.where("r")
	if err != nil {
		return nil, err
	}
	scope = "r.deleted_at IS NULL AND " + scope
	q.filter(scope, scopeArgs...)
	keys, err := q.order(o.Sort)
	if err != nil {
		return nil, err
	}
	if o.Marker != "" {
		if err := q.after(t, keys, o.Marker, scope, scopeArgs); err != nil {
			return nil, err
		}
	}
	var by []string
	for _, k := range keys {
		by = append(by, q.keys[k.Key]+map[bool]string{false: " ASC", true: " DESC"}[k.Desc])
	}
	sqlText := "SELECT " + q.columns + " FROM " + q.table + " r WHERE " + strings.Join(q.where, " AND ") +
		" ORDER BY " + strings.Join(by, ", ")
	if o.Limit > 0 {
		sqlText += fmt.Sprintf(" LIMIT %d", o.Limit)
	}
	return t.query(sqlText, q.args...)
}

// after adds the keyset condition "comes after the marker row in this order". The marker must
// be a live row in scope (the caller's project, or all); the other filters need not match it.
func (q *listQuery) after(t *tx, keys []SortKey, marker, scope string, scopeArgs []any) error {
	cols := make([]string, len(keys))
	for i, k := range keys {
		cols[i] = q.keys[k.Key]
	}
	vals := make([]any, len(keys))
	ptrs := make([]any, len(keys))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	err := t.queryRow("SELECT "+strings.Join(cols, ", ")+" FROM "+q.table+" r WHERE r.id = ? AND "+scope,
		append([]any{marker}, scopeArgs...)...).Scan(ptrs...)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("marker %s: %w", marker, ErrMarkerNotFound)
	}
	if err != nil {
		return err
	}
	var ors []string
	var args []any
	for i, k := range keys {
		var ands []string
		for j := range i {
			ands = append(ands, cols[j]+" = ?")
			args = append(args, vals[j])
		}
		ands = append(ands, cols[i]+map[bool]string{false: " > ?", true: " < ?"}[k.Desc])
		args = append(args, vals[i])
		ors = append(ors, "("+strings.Join(ands, " AND ")+")")
	}
	q.filter("("+strings.Join(ors, " OR ")+")", args...)
	return nil
}

// VolumeFilter selects volumes by Cinder's filters; zero fields select all.
type VolumeFilter struct {
	Status           volume.Status
	Name             string
	AvailabilityZone string
	// Metadata selects volumes having every pair.
	Metadata map[string]string
}

// volumeSortKeys are the sort keys of volumes: Cinder accepts any column; these are the ones
// Kiln has, with Cinder's names (name and display_name are the same column).
var volumeSortKeys = map[string]string{
	"id": "r.id", "name": "r.name", "display_name": "r.name", "status": "r.status",
	"size": "r.size_bytes", "availability_zone": "r.availability_zone",
	"created_at": "r.created_at", "updated_at": "COALESCE(r.updated_at, 0)",
	"project_id": "r.project_id", "user_id": "r.user_id", "volume_type_id": "r.volume_type_id",
	"description": "r.description", "display_description": "r.description",
}

// ListVolumes lists the live volumes in scope that pass f, in o's order, one page.
func (s *Store) ListVolumes(ctx context.Context, sc Scope, f VolumeFilter, o ListOptions) ([]Volume, error) {
	q := &listQuery{table: "volumes", columns: volumeColumns, keys: volumeSortKeys}
	if f.Status != "" {
		q.filter("r.status = ?", f.Status)
	}
	if f.Name != "" {
		q.filter("r.name = ?", f.Name)
	}
	if f.AvailabilityZone != "" {
		q.filter("r.availability_zone = ?", f.AvailabilityZone)
	}
	q.metadata(s.d, f.Metadata)
	var out []Volume
	err := s.read(ctx, "list volumes", func(t *tx) error {
		rows, err := q.run(t, sc, o)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			v, err := scanVolume(rows)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return rows.Err()
	})
	return out, err
}

// SnapshotFilter selects snapshots by Cinder's filters; zero fields select all.
type SnapshotFilter struct {
	Status   volume.Status
	Name     string
	VolumeID string
	Metadata map[string]string
}

var snapshotSortKeys = map[string]string{
	"id": "r.id", "name": "r.name", "display_name": "r.name", "status": "r.status",
	"size": "r.size_bytes", "volume_size": "r.size_bytes", "volume_id": "r.volume_id",
	"created_at": "r.created_at", "updated_at": "COALESCE(r.updated_at, 0)",
	"project_id": "r.project_id", "user_id": "r.user_id",
	"description": "r.description", "display_description": "r.description",
}

// ListSnapshots lists the live snapshots in scope that pass f, in o's order, one page.
func (s *Store) ListSnapshots(ctx context.Context, sc Scope, f SnapshotFilter, o ListOptions) ([]Snapshot, error) {
	q := &listQuery{table: "snapshots", columns: snapshotColumns, keys: snapshotSortKeys}
	if f.Status != "" {
		q.filter("r.status = ?", f.Status)
	}
	if f.Name != "" {
		q.filter("r.name = ?", f.Name)
	}
	if f.VolumeID != "" {
		q.filter("r.volume_id = ?", f.VolumeID)
	}
	q.metadata(s.d, f.Metadata)
	var out []Snapshot
	err := s.read(ctx, "list snapshots", func(t *tx) error {
		rows, err := q.run(t, sc, o)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			snap, err := scanSnapshot(rows)
			if err != nil {
				return err
			}
			out = append(out, snap)
		}
		return rows.Err()
	})
	return out, err
}
