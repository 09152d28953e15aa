package store

import (
	"context"
	"fmt"
	"time"

	"github.com/kilnstorage/kiln/sdk"
)

// PoolKey names a pool.
type PoolKey struct {
	Backend string
	Pool    string
}

// String is Cinder's "backend#pool".
func (k PoolKey) String() string { return k.Backend + "#" + k.Pool }

// PoolState is a pool as the store knows it: the backend's last capability report of it, the
// operator's configuration of the backend, and the claim ledger's totals. It is what the
// scheduler decides on. Report's Features, Resources and Attributes are shared with the
// store's cache and with other callers: never modify them.
type PoolState struct {
	Backend          string
	AvailabilityZone string
	// Report is the pool as the driver last reported it. A pool missing from the backend's
	// latest report is kept (its claims may still count), marked down.
	Report sdk.Pool
	// ReservedPercentage and MaxOverSubscriptionRatio are the operator's backend config:
	// "" for the scheduler's default, "auto", or a number.
	ReservedPercentage       int
	MaxOverSubscriptionRatio string
	// Info is the backend's, as its last report had it.
	Info BackendInfo
	// BootID and Seq order the reports; ReceivedAt is when the host stored this one.
	BootID     string
	Seq        uint64
	ReceivedAt time.Time
	// ClaimedBytes and ClaimedVolumes are the sums of the capacity claims on the pool.
	ClaimedBytes   int64
	ClaimedVolumes int64
}

// Key names the pool.
func (p PoolState) Key() PoolKey { return PoolKey{Backend: p.Backend, Pool: p.Report.Name} }

// BackendReport is one capability report of a backend, with the operator's configuration of it.
type BackendReport struct {
	Backend                  string
	AvailabilityZone         string
	ReservedPercentage       int
	MaxOverSubscriptionRatio string
	Info                     BackendInfo
	// Capacity is the driver's report; its Seq and BootID order it.
	Capacity sdk.Capacity
	// ReceivedAt is when the host received it; zero is now.
	ReceivedAt time.Time
}

// ReportCapacity stores a backend's report, one row per pool, unless a newer report of the same
// driver process (same boot id, higher or equal sequence number) is stored already; a report
// from a new boot always replaces the old process's. Pools missing from an applied report are
// marked down. It returns whether the report was applied.
func (s *Store) ReportCapacity(ctx context.Context, r BackendReport) (bool, error) {
	applied := false
	err := s.write(ctx, "store the capacity of backend "+r.Backend, func(t *tx) error {
		applied = false
		received := r.ReceivedAt
		if received.IsZero() {
			received = t.now
		}
		var names []any
		for _, p := range r.Capacity.Pools {
			n, err := t.upsertPool(r, p, received)
			if err != nil {
				return err
			}
			applied = applied || n > 0
			names = append(names, p.Name)
		}
		if !applied && len(names) > 0 {
			return nil
		}
		q := `UPDATE pools SET state = ?, state_reason = 'absent from the last report', boot_id = ?, seq = ?,
			received_at = ? WHERE backend = ? AND (boot_id <> ? OR seq < ?)`
		args := []any{int64(sdk.PoolDown), r.Capacity.BootID, int64(r.Capacity.Seq), micros(received),
			r.Backend, r.Capacity.BootID, int64(r.Capacity.Seq)}
		if len(names) > 0 {
			q += " AND pool NOT IN (" + placeholders(len(names)) + ")"
			args = append(args, names...)
		}
		res, err := t.exec(q, args...)
		if n, _ := res.RowsAffected(); err == nil && n > 0 {
			applied = true
		}
		return err
	})
	return applied, err
}

// upsertPool writes one pool's report unless the stored one is newer; it returns the rows
// changed (0 or 1).
func (t *tx) upsertPool(r BackendReport, p sdk.Pool, received time.Time) (int64, error) {
	res, err := t.exec(`INSERT INTO pools (backend, pool, availability_zone, state, state_reason,
			total_bytes, free_bytes, provisioned_bytes, capabilities, reserved_percentage,
			max_over_subscription_ratio, boot_id, seq, received_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (backend, pool) DO UPDATE SET availability_zone = excluded.availability_zone,
			state = excluded.state, state_reason = excluded.state_reason,
			total_bytes = excluded.total_bytes, free_bytes = excluded.free_bytes,
			provisioned_bytes = excluded.provisioned_bytes, capabilities = excluded.capabilities,
			reserved_percentage = excluded.reserved_percentage,
			max_over_subscription_ratio = excluded.max_over_subscription_ratio,
			boot_id = excluded.boot_id, seq = excluded.seq, received_at = excluded.received_at
		WHERE pools.boot_id <> excluded.boot_id OR pools.seq < excluded.seq`,
		r.Backend, p.Name, r.AvailabilityZone, int64(p.State), p.StateReason, p.TotalBytes,
		p.FreeBytes, p.ProvisionedBytes, encodeCapabilities(p, r.Info), r.ReservedPercentage,
		r.MaxOverSubscriptionRatio, r.Capacity.BootID, int64(r.Capacity.Seq), micros(received))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

const poolColumns = `backend, pool, availability_zone, state, state_reason, total_bytes, free_bytes,
	provisioned_bytes, capabilities, reserved_percentage, max_over_subscription_ratio, boot_id, seq,
	received_at, claimed_bytes, claimed_volumes`

func scanPool(row scanner) (PoolState, error) {
	var p PoolState
	var state, seq, received int64
	var caps string
	err := row.Scan(&p.Backend, &p.Report.Name, &p.AvailabilityZone, &state, &p.Report.StateReason,
		&p.Report.TotalBytes, &p.Report.FreeBytes, &p.Report.ProvisionedBytes, &caps,
		&p.ReservedPercentage, &p.MaxOverSubscriptionRatio, &p.BootID, &seq, &received,
		&p.ClaimedBytes, &p.ClaimedVolumes)
	if err != nil {
		return PoolState{}, err
	}
	p.Report.State, p.Seq, p.ReceivedAt = sdk.PoolState(state), uint64(seq), fromMicros(received)
	if err := decodeCapabilities(caps, &p.Report, &p.Info); err != nil {
		return PoolState{}, fmt.Errorf("pool %s: %w", p.Key(), err)
	}
	return p, nil
}

// Pools returns every stored pool, by backend and name.
func (s *Store) Pools(ctx context.Context) ([]PoolState, error) {
	var out []PoolState
	err := s.read(ctx, "list pools", func(t *tx) error {
		var err error
		out, err = t.pools(s.reports, nil)
		return err
	})
	return out, err
}

// SetBackendDown marks every pool of backend down, with reason, until its driver reports again:
// a backend whose driver is not running must not be chosen.
func (s *Store) SetBackendDown(ctx context.Context, backend, reason string) error {
	return s.write(ctx, "mark backend "+backend+" down", func(t *tx) error {
		_, err := t.exec(`UPDATE pools SET state = ?, state_reason = ? WHERE backend = ?`,
			int64(sdk.PoolDown), reason, backend)
		return err
	})
}
