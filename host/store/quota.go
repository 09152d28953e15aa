package store

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Quota resources, spelled as Cinder spells them. Per volume type there are also
// volumes_<type>, gigabytes_<type> and snapshots_<type> (TypeResource), unlimited by default.
const (
	Volumes            = "volumes"
	Snapshots          = "snapshots"
	Gigabytes          = "gigabytes"
	Backups            = "backups"
	BackupGigabytes    = "backup_gigabytes"
	Groups             = "groups"
	PerVolumeGigabytes = "per_volume_gigabytes"
)

// Limits maps a quota resource to its limit; -1 is unlimited.
type Limits map[string]int64

// DefaultLimits returns Cinder's defaults (quota_volumes, quota_snapshots, …).
func DefaultLimits() Limits {
	return Limits{Volumes: 10, Snapshots: 10, Gigabytes: 1000, Backups: 10, BackupGigabytes: 1000,
		Groups: 10, PerVolumeGigabytes: -1}
}

// Limit returns the limit of resource: -1 when none is set.
func (l Limits) Limit(resource string) int64 {
	if v, ok := l[resource]; ok {
		return v
	}
	return -1
}

// TypeResource is the per-type resource of a base resource (volumes, gigabytes or snapshots)
// and a volume type's name, such as "gigabytes_gold".
func TypeResource(resource, typeName string) string { return resource + "_" + typeName }

// typeResources are a type's three resources as query arguments.
func typeResources(typeName string) []any {
	return []any{TypeResource(Volumes, typeName), TypeResource(Gigabytes, typeName),
		TypeResource(Snapshots, typeName)}
}

// splitResource returns the base resource and type name of a per-type resource.
func splitResource(r string) (base, typeName string, ok bool) {
	for _, b := range []string{Volumes, Gigabytes, Snapshots} {
		if t, found := strings.CutPrefix(r, b+"_"); found && t != "" {
			return b, t, true
		}
	}
	return r, "", false
}

// validResource reports whether r names a usage resource: a base one other than
// per_volume_gigabytes, or a per-type one.
func validResource(r string) bool {
	if _, _, ok := splitResource(r); ok {
		return true
	}
	return r != PerVolumeGigabytes && slices.Contains(slices.Collect(maps.Keys(DefaultLimits())), r)
}

// VolumeDeltas are the usage a volume of typeName and size adds: what a create reserves and
// what CreateVolume commits.
func VolumeDeltas(typeName string, sizeBytes int64) map[string]int64 {
	gb := SizeGiB(sizeBytes)
	d := map[string]int64{Volumes: 1, Gigabytes: gb}
	if typeName != "" {
		d[TypeResource(Volumes, typeName)] = 1
		d[TypeResource(Gigabytes, typeName)] = gb
	}
	return d
}

// ExtendDeltas are the usage an extend from oldBytes to newBytes adds.
func ExtendDeltas(typeName string, oldBytes, newBytes int64) map[string]int64 {
	gb := SizeGiB(newBytes) - SizeGiB(oldBytes)
	d := map[string]int64{Gigabytes: gb}
	if typeName != "" {
		d[TypeResource(Gigabytes, typeName)] = gb
	}
	return d
}

// SnapshotDeltas are the usage a snapshot of a volume of typeName and size adds: what a
// snapshot create reserves and what CreateSnapshot commits. Its gigabytes count unless the
// store was opened WithoutSnapshotGigabytes.
func (s *Store) SnapshotDeltas(typeName string, volumeBytes int64) map[string]int64 {
	d := map[string]int64{Snapshots: 1}
	if typeName != "" {
		d[TypeResource(Snapshots, typeName)] = 1
	}
	if s.opts.snapshotGigabytes {
		d[Gigabytes] = SizeGiB(volumeBytes)
		if typeName != "" {
			d[TypeResource(Gigabytes, typeName)] = SizeGiB(volumeBytes)
		}
	}
	return d
}

// negate returns the deltas with their signs flipped: what removing the row gives back.
func negate(d map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(d))
	for k, v := range d {
		out[k] = -v
	}
	return out
}

// Reservation holds quota for a flow until a row change that names the flow commits it, or
// RollbackReservations gives it back.
type Reservation struct {
	FlowID    string
	ProjectID string
	// Deltas maps resources to amounts (VolumeDeltas, SnapshotDeltas, ExtendDeltas).
	Deltas map[string]int64
	// VolumeGigabytes, when positive, is the size the volume will have, checked against
	// per_volume_gigabytes.
	VolumeGigabytes int64
	// TTL, when positive, lets ExpireReservations give the reservation back after it: a safety
	// net for callers without a journal. Flows need none: recovery rolls them back.
	TTL time.Duration
}

// Reserve checks r against the project's limits and holds it, in one transaction: under
// concurrent reservations no limit is ever exceeded. It returns an *OverQuotaError naming the
// first resource (in name order) that would exceed its limit. Reserving again for the same flow
// replaces the flow's earlier amounts, so a resumed task does not reserve twice.
func (s *Store) Reserve(ctx context.Context, r Reservation) error {
	op := fmt.Sprintf("reserve quota of project %s for flow %s", r.ProjectID, r.FlowID)
	if err := r.valid(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return s.write(ctx, op, func(t *tx) error { return s.reserve(t, r) })
}

// valid checks that r names a flow, a project and known resources.
func (r Reservation) valid() error {
	if r.FlowID == "" || r.ProjectID == "" {
		return invalid("a reservation needs a flow and a project")
	}
	for res := range r.Deltas {
		if !validResource(res) {
			return invalid("unknown quota resource %q", res)
		}
	}
	return nil
}

func (s *Store) reserve(t *tx, r Reservation) error {
	limits, err := s.limits(t, r.ProjectID)
	if err != nil {
		return err
	}
	if err := checkPerVolume(r.ProjectID, limits, r.VolumeGigabytes); err != nil {
		return err
	}
	usage, err := s.lockUsage(t, r.ProjectID, slices.Collect(maps.Keys(r.Deltas)))
	if err != nil {
		return err
	}
	prev, err := t.held(r.FlowID, r.ProjectID)
	if err != nil {
		return err
	}
	if err := exceeds(r, limits, usage, prev); err != nil {
		return err
	}
	var expires any
	if r.TTL > 0 {
		expires = micros(t.now.Add(r.TTL))
	}
	var rows []any
	for _, res := range slices.Sorted(maps.Keys(r.Deltas)) {
		d, u := r.Deltas[res], usage[res]
		u.reserved = max(0, u.reserved-max(prev[res], 0)) + max(d, 0)
		rows = append(rows, r.FlowID, r.ProjectID, res, d, micros(t.now), expires)
	}
	if len(rows) > 0 {
		values := strings.Repeat("(?, ?, ?, ?, ?, ?), ", len(rows)/6)
		_, err := t.exec(`INSERT INTO reservations (flow_id, project_id, resource, delta, created_at, expires_at)
			VALUES `+values[:len(values)-2]+` ON CONFLICT (flow_id, project_id, resource)
			DO UPDATE SET delta = excluded.delta, expires_at = excluded.expires_at`, rows...)
		if err != nil {
			return err
		}
	}
	return t.saveUsage(r.ProjectID, usage)
}

// exceeds returns an *OverQuotaError for the first resource, in name order, that r would take
// past its limit, counting what r's flow already holds (prev) as given back; nil when none.
func exceeds(r Reservation, limits Limits, usage map[string]*usage, prev map[string]int64) error {
	for _, res := range slices.Sorted(maps.Keys(r.Deltas)) {
		d, u := r.Deltas[res], usage[res]
		reserved := max(0, u.reserved-max(prev[res], 0))
		if lim := limits.Limit(res); d > 0 && lim >= 0 && u.inUse+reserved+d > lim {
			return &OverQuotaError{ProjectID: r.ProjectID, Resource: res, Limit: lim,
				InUse: u.inUse, Reserved: reserved, Requested: d}
		}
	}
	return nil
}

// CheckQuota refuses r as Reserve would, with the same *OverQuotaError, but holds nothing and
// writes nothing: a read. It is for a caller whose next write consumes the quota and checks it
// again under the write lock, as CreateVolume does, so that a reservation held in between
// would protect nothing. A race lost in between is refused by that write, with nothing done.
func (s *Store) CheckQuota(ctx context.Context, r Reservation) error {
	op := fmt.Sprintf("check quota of project %s for flow %s", r.ProjectID, r.FlowID)
	if err := r.valid(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return s.read(ctx, op, func(t *tx) error {
		limits, err := s.limits(t, r.ProjectID)
		if err != nil {
			return err
		}
		if err := checkPerVolume(r.ProjectID, limits, r.VolumeGigabytes); err != nil {
			return err
		}
		resources := slices.Sorted(maps.Keys(r.Deltas))
		rows, err := t.selectUsage(r.ProjectID, resources, false)
		if err != nil {
			return err
		}
		if len(rows) < len(resources) { // rows not made yet: count what they would hold
			counted, err := s.counted(t, r.ProjectID)
			if err != nil {
				return err
			}
			for _, res := range resources {
				if rows[res] == nil {
					rows[res] = &usage{inUse: counted[r.ProjectID][res]}
				}
			}
		}
		prev, err := t.held(r.FlowID, r.ProjectID)
		if err != nil {
			return err
		}
		return exceeds(r, limits, rows, prev)
	})
}

// checkPerVolume refuses a volume larger than per_volume_gigabytes.
func checkPerVolume(project string, limits Limits, gb int64) error {
	if lim := limits.Limit(PerVolumeGigabytes); gb > 0 && lim >= 0 && gb > lim {
		return &OverQuotaError{ProjectID: project, Resource: PerVolumeGigabytes, Limit: lim, Requested: gb}
	}
	return nil
}

// RollbackReservations gives back every reservation flowID still holds: a flow's revert, or
// recovery of a flow that died. Rolling back a flow that holds nothing does nothing.
func (s *Store) RollbackReservations(ctx context.Context, flowID string) error {
	return s.write(ctx, "roll back the reservations of flow "+flowID, func(t *tx) error {
		return s.rollback(t, "flow_id = ?", flowID)
	})
}

// ExpireReservations rolls back every reservation whose TTL has passed and returns how many.
func (s *Store) ExpireReservations(ctx context.Context) (int, error) {
	var n int
	err := s.write(ctx, "expire reservations", func(t *tx) error {
		var err error
		n, err = t.count("SELECT COUNT(*) FROM reservations WHERE expires_at < ?", micros(t.now))
		if err != nil || n == 0 {
			return err
		}
		return s.rollback(t, "expires_at < ?", micros(t.now))
	})
	return n, err
}

// rollback gives back the reservations matching where and deletes them. Every change to a
// reservation happens under the lock of its usage row, so it reads them, locks their usage rows,
// and reads them again under the lock: one consumed or rolled back in between is not given back
// twice.
func (s *Store) rollback(t *tx, where string, arg any) error {
	first, err := t.reservations(where, []any{arg})
	if err != nil {
		return err
	}
	byProject := map[string][]string{}
	for k := range first {
		byProject[k.project] = append(byProject[k.project], k.resource)
	}
	for _, p := range slices.Sorted(maps.Keys(byProject)) {
		resources := byProject[p]
		usage, err := s.lockUsage(t, p, resources)
		if err != nil {
			return err
		}
		mine := where + " AND project_id = ? AND resource IN (" + placeholders(len(resources)) + ")"
		args := append([]any{arg, p}, anys(resources)...)
		give, err := t.reservations(mine, args)
		if err != nil {
			return err
		}
		for k, d := range give {
			usage[k.resource].reserved = max(0, usage[k.resource].reserved-d)
		}
		if err := t.saveUsage(p, usage); err != nil {
			return err
		}
		if _, err := t.exec("DELETE FROM reservations WHERE "+mine, args...); err != nil {
			return err
		}
	}
	return nil
}

// reservations sums the positive deltas of the reservations matching where, by project and
// resource.
func (t *tx) reservations(where string, args []any) (map[usageKey]int64, error) {
	rows, err := t.query("SELECT project_id, resource, delta FROM reservations WHERE "+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[usageKey]int64{}
	for rows.Next() {
		var k usageKey
		var d int64
		if err := rows.Scan(&k.project, &k.resource, &d); err != nil {
			return nil, err
		}
		out[k] += max(d, 0)
	}
	return out, rows.Err()
}

// held returns the reservations flowID holds in project, by resource.
func (t *tx) held(flowID, project string) (map[string]int64, error) {
	out := map[string]int64{}
	if flowID == "" {
		return out, nil
	}
	rows, err := t.query("SELECT resource, delta FROM reservations WHERE flow_id = ? AND project_id = ?", flowID, project)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var r string
		var d int64
		if err := rows.Scan(&r, &d); err != nil {
			return nil, err
		}
		out[r] = d
	}
	return out, rows.Err()
}

// count runs a query returning one integer.
func (t *tx) count(q string, args ...any) (int, error) {
	var n int
	err := t.queryRow(q, args...).Scan(&n)
	return n, err
}
