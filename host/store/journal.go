package store

import (
	"context"
	"time"

	"github.com/kilnstorage/kiln/host/flow"
)

// Journal is the flow journal of one owner (a host), in the flow_journal table. It implements
// flow.Journal. Hosts sharing a database each recover only their own flows.
type Journal struct {
	s     *Store
	owner string
}

var _ flow.Journal = (*Journal)(nil)

// Journal returns the journal of owner, the host's name ("" for a single host).
func (s *Store) Journal(owner string) *Journal { return &Journal{s: s, owner: owner} }

// Save records e, replacing the entry with the same ID.
func (j *Journal) Save(ctx context.Context, e flow.Entry) error {
	return j.s.write(ctx, "save journal entry "+e.ID, func(t *tx) error {
		updated := e.Updated
		if updated.IsZero() {
			updated = t.now
		}
		_, err := t.exec(`INSERT INTO flow_journal (id, owner, flow, task, phase, state, failed, error, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET flow = excluded.flow,
			task = excluded.task, phase = excluded.phase, state = excluded.state, failed = excluded.failed,
			error = excluded.error, updated_at = excluded.updated_at`,
			e.ID, j.owner, e.Flow, e.Task, string(e.Phase), string(e.State), e.Failed, e.Error,
			micros(t.now), micros(updated))
		return err
	})
}

// Finish forgets the flow id.
func (j *Journal) Finish(ctx context.Context, id string) error {
	return j.s.write(ctx, "finish journal entry "+id, func(t *tx) error {
		_, err := t.exec("DELETE FROM flow_journal WHERE id = ? AND owner = ?", id, j.owner)
		return err
	})
}

// Unfinished lists the owner's unfinished flows, least recently updated first.
func (j *Journal) Unfinished(ctx context.Context) ([]flow.Entry, error) {
	var out []flow.Entry
	err := j.s.read(ctx, "list unfinished flows", func(t *tx) error {
		rows, err := t.query(`SELECT id, flow, task, phase, state, failed, error, updated_at FROM flow_journal
			WHERE owner = ? ORDER BY updated_at, id`, j.owner)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e flow.Entry
			var phase string
			var updated int64
			if err := rows.Scan(&e.ID, &e.Flow, &e.Task, &phase, &e.State, &e.Failed, &e.Error, &updated); err != nil {
				return err
			}
			e.Phase, e.Updated = flow.Phase(phase), time.UnixMicro(updated)
			out = append(out, e)
		}
		return rows.Err()
	})
	return out, err
}
