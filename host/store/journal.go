package store

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/kilnstorage/kiln/host/flow"
)

// Journal is the flow journal of one owner (a host), in the flow_journal table. It implements
// flow.Journal. Hosts sharing a database each recover only their own flows.
//
// On SQLite it is a flow.Stager: a staged entry joins the group commit's next batch, ahead of
// every write queued after it, without waiting for that batch to commit (see committer).
// PostgreSQL has no single ordered writer, so there staging is saving.
type Journal struct {
	s     *Store
	owner string
	// failed holds, by flow ID, the failure of a staged write, which the flow's next call
	// returns.
	failed sync.Map
}

var _ flow.Stager = (*Journal)(nil)

// Journal returns the journal of owner, the host's name ("" for a single host).
func (s *Store) Journal(owner string) *Journal { return &Journal{s: s, owner: owner} }

// Save records e, replacing the entry with the same ID.
func (j *Journal) Save(ctx context.Context, e flow.Entry) error {
	if err := j.stagedFailure(e.ID); err != nil {
		return err
	}
	return j.s.write(ctx, "save journal entry "+e.ID, j.save(e))
}

// Stage records e in the next batch without waiting for it to commit.
func (j *Journal) Stage(ctx context.Context, e flow.Entry) error {
	return j.stage(ctx, e.ID, "save journal entry", j.save(e))
}

// StageFinish forgets the flow id in the next batch without waiting for it to commit.
func (j *Journal) StageFinish(ctx context.Context, id string) error {
	return j.stage(ctx, id, "finish journal entry", j.finish(id))
}

func (j *Journal) stage(ctx context.Context, id, op string, fn func(*tx) error) error {
	if err := j.stagedFailure(id); err != nil {
		return err
	}
	if j.s.commit == nil {
		return j.s.write(ctx, op+" "+id, fn)
	}
	return j.s.commit.stage(ctx, fn, func(err error) {
		j.failed.Store(id, fmt.Errorf("%s %s (staged): %w", op, id, err))
	})
}

// stagedFailure returns, once, the failure of a staged write of flow id.
func (j *Journal) stagedFailure(id string) error {
	if err, ok := j.failed.LoadAndDelete(id); ok {
		return err.(error)
	}
	return nil
}

func (j *Journal) save(e flow.Entry) func(*tx) error {
	return func(t *tx) error {
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
	}
}

// Finish forgets the flow id.
func (j *Journal) Finish(ctx context.Context, id string) error {
	if err := j.stagedFailure(id); err != nil {
		return err
	}
	return j.s.write(ctx, "finish journal entry "+id, j.finish(id))
}

func (j *Journal) finish(id string) func(*tx) error {
	return func(t *tx) error {
		_, err := t.exec("DELETE FROM flow_journal WHERE id = ? AND owner = ?", id, j.owner)
		return err
	}
}

// Sync returns once every entry staged before it is durable.
func (j *Journal) Sync(ctx context.Context) error {
	if j.s.commit == nil {
		return nil
	}
	return j.s.commit.do(ctx, func(*tx) error { return nil })
}

// Has reports whether any of the flows ids is unfinished in the owner's journal. It reads what
// is committed: entries this process staged and that are not yet committed are not seen (Sync
// first when that matters).
func (j *Journal) Has(ctx context.Context, ids ...string) (bool, error) {
	if len(ids) == 0 {
		return false, nil
	}
	args := append([]any{j.owner}, anys(ids)...)
	var n int
	err := j.s.queryRow(ctx, "SELECT COUNT(*) FROM flow_journal WHERE owner = ? AND id IN ("+
		placeholders(len(ids))+")", args...).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("look up flows %v: %w", ids, err)
	}
	return n > 0, nil
}

// Unfinished lists the owner's unfinished flows, least recently updated first, staged entries
// included.
func (j *Journal) Unfinished(ctx context.Context) ([]flow.Entry, error) {
	if err := j.Sync(ctx); err != nil {
		return nil, fmt.Errorf("list unfinished flows: %w", err)
	}
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
