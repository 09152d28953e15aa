package store

import (
	"context"
	"maps"
	"slices"
)

// Usage is one resource of a project's quota set as Cinder reports it with ?usage=true.
type Usage struct {
	Limit    int64
	InUse    int64
	Reserved int64
}

// resources lists every resource of a quota set: the base ones and, for every live volume
// type, its three per-type ones.
func (t *tx) resources() ([]string, error) {
	out := slices.Collect(maps.Keys(DefaultLimits()))
	rows, err := t.query("SELECT name FROM volume_types WHERE deleted_at IS NULL")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		out = append(out, TypeResource(Volumes, name), TypeResource(Gigabytes, name),
			TypeResource(Snapshots, name))
	}
	slices.Sort(out)
	return out, rows.Err()
}

// QuotaLimits returns the project's quota set: a limit for every resource.
func (s *Store) QuotaLimits(ctx context.Context, project string) (Limits, error) {
	var out Limits
	err := s.read(ctx, "quota limits of project "+project, func(t *tx) error {
		l, rs, err := s.quotaSet(t, project)
		out = Limits{}
		for _, r := range rs {
			out[r] = l.Limit(r)
		}
		return err
	})
	return out, err
}

// DefaultQuotaLimits returns the defaults a project without limits of its own has.
func (s *Store) DefaultQuotaLimits(ctx context.Context) (Limits, error) {
	return s.QuotaLimits(ctx, "")
}

func (s *Store) quotaSet(t *tx, project string) (Limits, []string, error) {
	l, err := s.limits(t, project)
	if err != nil {
		return nil, nil, err
	}
	rs, err := t.resources()
	return l, rs, err
}

// QuotaUsage returns the project's quota set with usage: for every resource its limit, in_use
// and reserved (per_volume_gigabytes has a limit only).
func (s *Store) QuotaUsage(ctx context.Context, project string) (map[string]Usage, error) {
	out := map[string]Usage{}
	err := s.read(ctx, "quota usage of project "+project, func(t *tx) error {
		l, rs, err := s.quotaSet(t, project)
		if err != nil {
			return err
		}
		for _, r := range rs {
			out[r] = Usage{Limit: l.Limit(r)}
		}
		rows, err := t.query("SELECT resource, in_use, reserved FROM quota_usages WHERE project_id = ?", project)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r string
			var u Usage
			if err := rows.Scan(&r, &u.InUse, &u.Reserved); err != nil {
				return err
			}
			if cur, ok := out[r]; ok {
				u.Limit = cur.Limit
				out[r] = u
			}
		}
		return rows.Err()
	})
	return out, err
}

// SetQuotaLimits sets limits of the project (Cinder's PUT os-quota-sets). Every resource must
// be in the quota set; a limit is -1 or more, and not below in_use + reserved unless it is -1 or
// per_volume_gigabytes. Either all limits are set or none.
func (s *Store) SetQuotaLimits(ctx context.Context, project string, l Limits) error {
	return s.write(ctx, "set quota limits of project "+project, func(t *tx) error {
		return s.setLimits(t, "quotas", "project_id", project, l)
	})
}

// SetDefaultQuotaLimits sets limits of the "default" quota class, which every project without
// limits of its own has (Cinder's PUT os-quota-class-sets/default).
func (s *Store) SetDefaultQuotaLimits(ctx context.Context, l Limits) error {
	return s.write(ctx, "set default quota limits", func(t *tx) error {
		return s.setLimits(t, "quota_classes", "class_name", "default", l)
	})
}

// ResetQuotaLimits deletes the project's own limits: it has the defaults again (Cinder's
// DELETE os-quota-sets).
func (s *Store) ResetQuotaLimits(ctx context.Context, project string) error {
	return s.write(ctx, "reset quota limits of project "+project, func(t *tx) error {
		_, err := t.exec("DELETE FROM quotas WHERE project_id = ?", project)
		return err
	})
}

func (s *Store) setLimits(t *tx, table, key, owner string, l Limits) error {
	rs, err := t.resources()
	if err != nil {
		return err
	}
	for _, r := range slices.Sorted(maps.Keys(l)) {
		v := l[r]
		if !slices.Contains(rs, r) {
			return invalid("unknown quota resource %q", r)
		}
		if v < -1 {
			return invalid("quota limit %d for %s: want -1 (unlimited) or more", v, r)
		}
		if table == "quotas" && v >= 0 && r != PerVolumeGigabytes {
			if err := s.notBelowUsage(t, owner, r, v); err != nil {
				return err
			}
		}
		_, err := t.exec(`INSERT INTO `+table+` (`+key+`, resource, hard_limit, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (`+key+`, resource) DO UPDATE SET hard_limit = excluded.hard_limit,
			updated_at = excluded.updated_at`, owner, r, v, micros(t.now))
		if err != nil {
			return err
		}
	}
	return nil
}

// notBelowUsage locks the usage row so that no reservation slips in between the check and the
// new limit.
func (s *Store) notBelowUsage(t *tx, project, r string, limit int64) error {
	usage, err := s.lockUsage(t, project, []string{r})
	if err != nil {
		return err
	}
	if u := usage[r]; limit < u.inUse+u.reserved {
		return invalid("quota limit %d for %s is below its usage: %d in use, %d reserved",
			limit, r, u.inUse, u.reserved)
	}
	return nil
}
