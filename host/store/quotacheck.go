package store

import (
	"cmp"
	"context"
	"slices"
)

// QuotaDrift is a usage row that differs from what the rows count: InUse against Counted (the
// live volumes and snapshots), Reserved against Held (the live reservations).
type QuotaDrift struct {
	ProjectID string
	Resource  string
	InUse     int64
	Counted   int64
	Reserved  int64
	Held      int64
}

// QuotaReport is what CheckQuotas found.
type QuotaReport struct {
	// Drifts lists every usage that differs from its count, by project and resource.
	Drifts []QuotaDrift
	// Orphans are reservations whose flow is in no journal: it ended or died without
	// committing or rolling them back, or the caller keeps no journal. CheckQuotas with fix
	// rolls them back (a flow journals itself before it reserves, so no live flow's
	// reservation is ever an orphan).
	Orphans []Reservation
}

// CheckQuotas recounts usage from the rows, in one transaction, and reports every difference
// (Cinder's cinder-manage quota check). With fix, it also sets each usage to its count (quota
// sync) and rolls the orphan reservations back. Usage moves in the same transaction as the rows it counts, so a report is empty
// unless something outside the store changed the database.
func (s *Store) CheckQuotas(ctx context.Context, fix bool) (QuotaReport, error) {
	var rep QuotaReport
	err := s.write(ctx, "check quotas", func(t *tx) error {
		rep = QuotaReport{}
		stored, err := t.allUsage()
		if err != nil {
			return err
		}
		counted, err := s.counted(t, "")
		if err != nil {
			return err
		}
		held, err := t.allHeld()
		if err != nil {
			return err
		}
		rep.Drifts = drifts(stored, counted, held)
		if rep.Orphans, err = t.orphans(); err != nil || !fix {
			return err
		}
		if err := t.fixUsage(rep.Drifts); err != nil {
			return err
		}
		// No flow will ever commit or roll back an orphan: recovery knows only the journal.
		for _, o := range rep.Orphans {
			if err := s.rollback(t, "flow_id = ?", o.FlowID); err != nil {
				return err
			}
		}
		return nil
	})
	return rep, err
}

type usageKey struct{ project, resource string }

func (t *tx) allUsage() (map[usageKey]usage, error) {
	rows, err := t.query("SELECT project_id, resource, in_use, reserved FROM quota_usages" + t.d.forUpdate)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[usageKey]usage{}
	for rows.Next() {
		var k usageKey
		var u usage
		if err := rows.Scan(&k.project, &k.resource, &u.inUse, &u.reserved); err != nil {
			return nil, err
		}
		out[k] = u
	}
	return out, rows.Err()
}

func (t *tx) allHeld() (map[usageKey]int64, error) {
	return t.reservations("1 = 1", nil)
}

func drifts(stored map[usageKey]usage, counted map[string]map[string]int64, held map[usageKey]int64) []QuotaDrift {
	keys := map[usageKey]bool{}
	for k := range stored {
		keys[k] = true
	}
	for p, rs := range counted {
		for r := range rs {
			keys[usageKey{p, r}] = true
		}
	}
	for k := range held {
		keys[k] = true
	}
	var out []QuotaDrift
	for k := range keys {
		u := stored[k]
		d := QuotaDrift{ProjectID: k.project, Resource: k.resource, InUse: u.inUse,
			Counted: counted[k.project][k.resource], Reserved: u.reserved, Held: held[k]}
		if d.InUse != d.Counted || d.Reserved != d.Held {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b QuotaDrift) int {
		return cmp.Or(cmp.Compare(a.ProjectID, b.ProjectID), cmp.Compare(a.Resource, b.Resource))
	})
	return out
}

func (t *tx) orphans() ([]Reservation, error) {
	rows, err := t.query(`SELECT r.flow_id, r.project_id, r.resource, r.delta FROM reservations r
		WHERE NOT EXISTS (SELECT 1 FROM flow_journal j WHERE j.id = r.flow_id)
		ORDER BY r.flow_id, r.project_id, r.resource`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Reservation
	for rows.Next() {
		var flow, project, resource string
		var d int64
		if err := rows.Scan(&flow, &project, &resource, &d); err != nil {
			return nil, err
		}
		if n := len(out); n > 0 && out[n-1].FlowID == flow && out[n-1].ProjectID == project {
			out[n-1].Deltas[resource] = d
			continue
		}
		out = append(out, Reservation{FlowID: flow, ProjectID: project, Deltas: map[string]int64{resource: d}})
	}
	return out, rows.Err()
}

func (t *tx) fixUsage(ds []QuotaDrift) error {
	for _, d := range ds {
		_, err := t.exec(`INSERT INTO quota_usages (project_id, resource, in_use, reserved, updated_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (project_id, resource)
			DO UPDATE SET in_use = excluded.in_use, reserved = excluded.reserved, updated_at = excluded.updated_at`,
			d.ProjectID, d.Resource, d.Counted, d.Held, micros(t.now))
		if err != nil {
			return err
		}
	}
	return nil
}
