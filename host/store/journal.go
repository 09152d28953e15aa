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
// On SQLite it is a flow.Stager: a staged entry joins the group commit's queue, ahead of every
// write queued after it, without waiting for its batch to commit (see committer). A flow's
// entries coalesce: while one is queued and not yet written, a newer entry of the same flow
// (or its end) takes its place in the queue, so a run of tasks that write nothing else costs
// one journal write, not one per task. The newer entry is then written earlier than its own
// call — never later, which is what Stager promises. Save and Finish are a staged write and a
// wait for its batch. PostgreSQL has no single ordered writer, so there every call writes.
type Journal struct {
	s     *Store
	owner string
	// failed holds, by flow ID, the failure of a staged write, which the flow's next call
	// returns.
	failed sync.Map
	mu     sync.Mutex
	// queued holds, by flow ID, the write queued and not yet run.
	queued map[string]*journalWrite
}

// journalWrite is a flow's queued journal write: an entry to save, or the flow's end.
type journalWrite struct {
	entry  flow.Entry
	finish bool
}

var _ flow.Stager = (*Journal)(nil)

// Journal returns the journal of owner, the host's name ("" for a single host).
func (s *Store) Journal(owner string) *Journal {
	return &Journal{s: s, owner: owner, queued: map[string]*journalWrite{}}
}

// Save records e, replacing the entry with the same ID.
func (j *Journal) Save(ctx context.Context, e flow.Entry) error {
	if j.s.commit == nil {
		return j.direct(ctx, e.ID, "save journal entry", j.save(e))
	}
	if err := j.Stage(ctx, e); err != nil {
		return err
	}
	return j.sync(ctx, e.ID)
}

// Finish forgets the flow id.
func (j *Journal) Finish(ctx context.Context, id string) error {
	if j.s.commit == nil {
		return j.direct(ctx, id, "finish journal entry", j.finish(id))
	}
	if err := j.StageFinish(ctx, id); err != nil {
		return err
	}
	return j.sync(ctx, id)
}

// Stage records e in the queue without waiting for it to commit.
func (j *Journal) Stage(ctx context.Context, e flow.Entry) error {
	if j.s.commit == nil {
		return j.direct(ctx, e.ID, "save journal entry", j.save(e))
	}
	return j.enqueue(e.ID, journalWrite{entry: e})
}

// StageFinish forgets the flow id in the queue without waiting for it to commit.
func (j *Journal) StageFinish(ctx context.Context, id string) error {
	if j.s.commit == nil {
		return j.direct(ctx, id, "finish journal entry", j.finish(id))
	}
	return j.enqueue(id, journalWrite{finish: true})
}

// direct writes at once (PostgreSQL).
func (j *Journal) direct(ctx context.Context, id, op string, fn func(*tx) error) error {
	if err := j.stagedFailure(id); err != nil {
		return err
	}
	return j.s.write(ctx, op+" "+id, fn)
}

// enqueue puts w in the queue for flow id: in the place of the flow's queued write when it has
// one, else as a new write at the end of the queue. The write runs whatever happens to the
// caller's context: a flow's entries must reach the table in order.
func (j *Journal) enqueue(id string, w journalWrite) error {
	if err := j.stagedFailure(id); err != nil {
		return err
	}
	j.mu.Lock()
	if q, ok := j.queued[id]; ok {
		*q = w
		j.mu.Unlock()
		return nil
	}
	q := &w
	j.queued[id] = q
	j.mu.Unlock()
	run := func(t *tx) error {
		j.mu.Lock()
		w := *q
		delete(j.queued, id)
		j.mu.Unlock()
		if w.finish {
			return j.finish(id)(t)
		}
		return j.save(w.entry)(t)
	}
	err := j.s.commit.stage(context.Background(), run, true, func(err error) {
		// The write may have failed before it ran: the flow's next entry must queue anew.
		j.mu.Lock()
		if j.queued[id] == q {
			delete(j.queued, id)
		}
		j.mu.Unlock()
		j.failed.Store(id, fmt.Errorf("journal of flow %s (staged): %w", id, err))
	})
	if err != nil {
		j.mu.Lock()
		delete(j.queued, id)
		j.mu.Unlock()
	}
	return err
}

// sync waits until what flow id queued is durable, and returns its failure.
func (j *Journal) sync(ctx context.Context, id string) error {
	if err := j.Sync(ctx); err != nil {
		return err
	}
	return j.stagedFailure(id)
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
	return j.s.commit.do(waited(ctx), func(*tx) error { return nil }, true)
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
