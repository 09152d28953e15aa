package store

import (
	"context"
	"encoding/json"
	"time"
)

// Event is something that happened to a volume, such as "volume.create.start".
type Event struct {
	ID        int64
	VolumeID  string
	ProjectID string
	Kind      string
	At        time.Time
	// Detail is a JSON object; empty is {}.
	Detail json.RawMessage
}

// AddEvent appends e (its ID and, when zero, its time are set) and returns it.
func (s *Store) AddEvent(ctx context.Context, e Event) (Event, error) {
	err := s.write(ctx, "add event "+e.Kind+" of volume "+e.VolumeID, s.addEvent(&e))
	return e, err
}

func (s *Store) addEvent(e *Event) func(*tx) error {
	if len(e.Detail) == 0 {
		e.Detail = json.RawMessage("{}")
	}
	return func(t *tx) error {
		if e.At.IsZero() {
			e.At = t.now
		}
		return t.queryRow(`INSERT INTO events (volume_id, project_id, kind, at, detail) VALUES (?, ?, ?, ?, ?)
			RETURNING id`, e.VolumeID, e.ProjectID, e.Kind, micros(e.At), string(e.Detail)).Scan(&e.ID)
	}
}

// StageEvent adds e without waiting for it to be durable: on SQLite it joins the group
// commit's next batch, ahead of every write queued after it, and failed hears of its failure
// (elsewhere it is AddEvent); failed may be nil. For events whose loss in a crash costs
// nothing but the record.
func (s *Store) StageEvent(ctx context.Context, e Event, failed func(error)) error {
	if s.commit == nil {
		_, err := s.AddEvent(ctx, e)
		return err
	}
	fn := s.addEvent(&e)
	// The event must not fail for its caller's cancellation: a staged write that fails stops
	// the store.
	return s.commit.stage(context.WithoutCancel(ctx), fn, true, func(err error) {
		if failed != nil {
			failed(wrap("add event "+e.Kind+" of volume "+e.VolumeID, err))
		}
	})
}

// Events lists a volume's events in the order they were added.
func (s *Store) Events(ctx context.Context, volumeID string) ([]Event, error) {
	var out []Event
	err := s.read(ctx, "list events of volume "+volumeID, func(t *tx) error {
		rows, err := t.query(`SELECT id, volume_id, project_id, kind, at, detail FROM events
			WHERE volume_id = ? ORDER BY id`, volumeID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e Event
			var at int64
			var detail string
			if err := rows.Scan(&e.ID, &e.VolumeID, &e.ProjectID, &e.Kind, &at, &detail); err != nil {
				return err
			}
			e.At, e.Detail = fromMicros(at), json.RawMessage(detail)
			out = append(out, e)
		}
		return rows.Err()
	})
	return out, err
}
