package store

import (
	"maps"
	"slices"
	"strings"
)

// usage is one quota_usages row being changed in a transaction.
type usage struct{ inUse, reserved int64 }

// limits returns the project's limits: Cinder's defaults, overridden by the store's options,
// then by the "default" quota class's rows, then by the project's rows.
func (s *Store) limits(t *tx, project string) (Limits, error) {
	l := DefaultLimits()
	maps.Copy(l, s.opts.quota)
	rows, err := t.query(`SELECT resource, hard_limit, 0 AS rank FROM quota_classes WHERE class_name = 'default'
		UNION ALL SELECT resource, hard_limit, 1 AS rank FROM quotas WHERE project_id = ? ORDER BY rank`, project)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var r string
		var v, rank int64
		if err := rows.Scan(&r, &v, &rank); err != nil {
			return nil, err
		}
		l[r] = v
	}
	return l, rows.Err()
}

// lockUsage locks and returns the project's usage rows of resources, in name order so that
// concurrent transactions never deadlock. A missing row is created with in_use counted from the
// rows, as Cinder's sync functions do. Call it before changing the rows it counts.
func (s *Store) lockUsage(t *tx, project string, resources []string) (map[string]*usage, error) {
	resources = slices.Sorted(slices.Values(resources))
	out, err := t.selectUsage(project, resources, true)
	if err != nil || len(out) == len(resources) {
		return out, err
	}
	counted, err := s.counted(t, project)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, r := range resources {
		if out[r] != nil {
			continue
		}
		missing = append(missing, r)
		_, err := t.exec(`INSERT INTO quota_usages (project_id, resource, in_use, reserved, updated_at)
			VALUES (?, ?, ?, 0, ?) ON CONFLICT DO NOTHING`, project, r, counted[project][r], micros(t.now))
		if err != nil {
			return nil, err
		}
	}
	more, err := t.selectUsage(project, missing, true)
	maps.Copy(out, more)
	return out, err
}

// selectUsage reads the project's usage rows of resources, locking them (PostgreSQL) when lock.
func (t *tx) selectUsage(project string, resources []string, lock bool) (map[string]*usage, error) {
	out := make(map[string]*usage, len(resources))
	if len(resources) == 0 {
		return out, nil
	}
	args := append([]any{project}, anys(resources)...)
	q := `SELECT resource, in_use, reserved FROM quota_usages
		WHERE project_id = ? AND resource IN (` + placeholders(len(resources)) + `) ORDER BY resource`
	if lock {
		q += t.d.forUpdate
	}
	rows, err := t.query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var r string
		var u usage
		if err := rows.Scan(&r, &u.inUse, &u.reserved); err != nil {
			return nil, err
		}
		out[r] = &u
	}
	return out, rows.Err()
}

// saveUsage writes the locked usage rows back, in one statement.
func (t *tx) saveUsage(project string, usage map[string]*usage) error {
	if len(usage) == 0 {
		return nil
	}
	var inUse, reserved strings.Builder
	var inArgs, resArgs, keys []any
	for _, r := range slices.Sorted(maps.Keys(usage)) {
		inUse.WriteString(" WHEN ? THEN CAST(? AS BIGINT)")
		reserved.WriteString(" WHEN ? THEN CAST(? AS BIGINT)")
		inArgs = append(inArgs, r, usage[r].inUse)
		resArgs = append(resArgs, r, usage[r].reserved)
		keys = append(keys, r)
	}
	args := slices.Concat(inArgs, resArgs, []any{micros(t.now), project}, keys)
	_, err := t.exec(`UPDATE quota_usages SET in_use = CASE resource`+inUse.String()+` END,
		reserved = CASE resource`+reserved.String()+` END, updated_at = ?
		WHERE project_id = ? AND resource IN (`+placeholders(len(keys))+`)`, args...)
	return err
}

// applyUsage commits the usage a row change moves, in the row change's transaction, before
// the change is written: in_use moves by deltas, and the reservations flowID holds for those
// resources are consumed. A positive delta not covered by a reservation is checked against
// the limit, so a caller that did not reserve cannot exceed a quota either; volumeGB, when
// positive, is checked against per_volume_gigabytes. Negative deltas (a row removed) only give
// back, never below zero.
func (s *Store) applyUsage(t *tx, project, flowID string, deltas map[string]int64, volumeGB int64) error {
	limits, err := s.limits(t, project)
	if err != nil {
		return err
	}
	if err := checkPerVolume(project, limits, volumeGB); err != nil {
		return err
	}
	usage, err := s.lockUsage(t, project, slices.Collect(maps.Keys(deltas)))
	if err != nil {
		return err
	}
	held, err := t.held(flowID, project)
	if err != nil {
		return err
	}
	var consumed []any
	for _, r := range slices.Sorted(maps.Keys(deltas)) {
		d, u := deltas[r], usage[r]
		h, ok := held[r]
		if ok {
			u.reserved = max(0, u.reserved-max(h, 0))
			consumed = append(consumed, r)
		}
		if lim := limits.Limit(r); d > max(h, 0) && lim >= 0 && u.inUse+u.reserved+d > lim {
			return &OverQuotaError{ProjectID: project, Resource: r, Limit: lim, InUse: u.inUse,
				Reserved: u.reserved, Requested: d - max(h, 0)}
		}
		u.inUse = max(0, u.inUse+d)
	}
	if len(consumed) > 0 {
		_, err := t.exec("DELETE FROM reservations WHERE flow_id = ? AND project_id = ? AND resource IN ("+
			placeholders(len(consumed))+")", append([]any{flowID, project}, consumed...)...)
		if err != nil {
			return err
		}
	}
	return t.saveUsage(project, usage)
}

// counted returns the usage the live rows make, by project and resource, for one project or
// ("") for all: what Cinder's sync functions compute.
func (s *Store) counted(t *tx, project string) (map[string]map[string]int64, error) {
	out := map[string]map[string]int64{}
	add := func(p, r string, n int64) {
		if out[p] == nil {
			out[p] = map[string]int64{}
		}
		out[p][r] += n
	}
	for _, table := range []string{"volumes", "snapshots"} {
		q := `SELECT r.project_id, COALESCE(vt.name, ''), COUNT(*), CAST(COALESCE(SUM((r.size_bytes + ?) / ?), 0) AS BIGINT)
			FROM ` + table + ` r LEFT JOIN volume_types vt ON vt.id = r.volume_type_id
			WHERE r.deleted_at IS NULL`
		args := []any{int64(GiB - 1), int64(GiB)}
		if project != "" {
			q += " AND r.project_id = ?"
			args = append(args, project)
		}
		rows, err := t.query(q+" GROUP BY r.project_id, vt.name", args...)
		if err != nil {
			return nil, err
		}
		base := map[string]string{"volumes": Volumes, "snapshots": Snapshots}[table]
		gigabytes := table == "volumes" || s.opts.snapshotGigabytes
		for rows.Next() {
			var p, typeName string
			var n, gb int64
			if err := rows.Scan(&p, &typeName, &n, &gb); err != nil {
				rows.Close()
				return nil, err
			}
			add(p, base, n)
			if typeName != "" {
				add(p, TypeResource(base, typeName), n)
			}
			if gigabytes {
				add(p, Gigabytes, gb)
				if typeName != "" {
					add(p, TypeResource(Gigabytes, typeName), gb)
				}
			}
		}
		if err := closeRows(rows); err != nil {
			return nil, err
		}
	}
	return out, nil
}
