package store

import (
	"context"
	"errors"
	"time"
)

// Service is a services row: one binary on one host, with its heartbeat.
type Service struct {
	Host             string
	Binary           string
	AvailabilityZone string
	Disabled         bool
	DisabledReason   string
	// ReportCount counts heartbeats; UpdatedAt is the last one.
	ReportCount int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Heartbeat records that the service is alive, creating its row on the first beat. It keeps
// the disabled flag, which only SetServiceDisabled changes.
func (s *Store) Heartbeat(ctx context.Context, host, binary, zone string) error {
	return s.write(ctx, "heartbeat of "+binary+" on "+host, func(t *tx) error {
		_, err := t.exec(`INSERT INTO services (host, binary_name, availability_zone, report_count, created_at, updated_at)
			VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT (host, binary_name) DO UPDATE SET
			availability_zone = excluded.availability_zone, report_count = services.report_count + 1,
			updated_at = excluded.updated_at`, host, binary, zone, micros(t.now), micros(t.now))
		return err
	})
}

// SetServiceDisabled enables or disables a service, with a reason.
func (s *Store) SetServiceDisabled(ctx context.Context, host, binary string, disabled bool, reason string) error {
	return s.write(ctx, "disable "+binary+" on "+host, func(t *tx) error {
		res, err := t.exec(`UPDATE services SET disabled = ?, disabled_reason = ? WHERE host = ? AND binary_name = ?`,
			boolInt(disabled), reason, host, binary)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, notFound("service", binary+" on "+host))
		}
		return nil
	})
}

// Services lists every service by host and binary.
func (s *Store) Services(ctx context.Context) ([]Service, error) {
	var out []Service
	err := s.read(ctx, "list services", func(t *tx) error {
		rows, err := t.query(`SELECT host, binary_name, availability_zone, disabled, disabled_reason, report_count,
			created_at, updated_at FROM services ORDER BY host, binary_name`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var v Service
			var created, updated int64
			if err := rows.Scan(&v.Host, &v.Binary, &v.AvailabilityZone, &v.Disabled, &v.DisabledReason,
				&v.ReportCount, &created, &updated); err != nil {
				return err
			}
			v.CreatedAt, v.UpdatedAt = fromMicros(created), fromMicros(updated)
			out = append(out, v)
		}
		return rows.Err()
	})
	return out, err
}
