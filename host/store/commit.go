package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// committer is SQLite's group commit. SQLite has one writer at a time and a durable commit
// costs an fsync (~0.1–0.4 ms here, limits.md §2), while the writes themselves take tens of
// microseconds: committing each alone caps a host at a few thousand writes per second,
// whatever the number of flows in flight. One goroutine owns the writer connection instead,
// and runs every write that is waiting when it starts a transaction in that one transaction,
// each inside its own savepoint, then commits once. Each write still succeeds or fails alone:
// a failing one is rolled back to its savepoint and the others commit. No write's result is
// reported before the commit that makes it durable, so no caller acts on a write that could
// still be lost.
//
// The writes of a batch run one after another, so each sees the ones before it: the batch is
// the same serial history that one-transaction-per-write would have produced.
type committer struct {
	s    *Store
	reqs chan *writeReq
	// broken is set when a batch that had answered early writes failed to commit: their
	// callers went on as if they were written, so nothing may be written after them.
	broken atomic.Pointer[error]
	// mu guards closed; senders hold it shared, so close waits for those in flight.
	mu      sync.RWMutex
	closed  bool
	quit    chan struct{}
	stopped chan struct{}
	// commits counts the transactions committed.
	commits atomic.Int64
	// linger is how long a transaction of lazy writes only stays open: maxLinger, or a test's.
	linger time.Duration
	// wal, when set, makes the database's write-ahead log durable itself: the writer
	// commits without an fsync (synchronous=NORMAL) and the syncer fsyncs the log, once for
	// every batch committed meanwhile, before the batch's writers hear of it (see walSyncer).
	wal *walSyncer
}

// writeReq is one write waiting for the committer: done receives its outcome, or for a staged
// write, failed receives its failure.
type writeReq struct {
	ctx    context.Context
	fn     func(*tx) error
	done   chan error
	failed func(error)
	// early answers done as soon as fn ran (see Early); answered records that it did.
	early, answered bool
	// lazy lets the write wait in an open transaction for one that must commit (see Lazy).
	lazy bool
	// single marks a write of at most one statement, which runs without a savepoint: SQLite
	// undoes a failed statement by itself. Should one fail, the batch fails, since SQLite
	// rolls the whole transaction back on some errors and nothing would show it.
	single bool
}

// writeMode is how a context's SQLite writes are answered and committed.
type writeMode int

const (
	waitWrite  writeMode = iota // answered once durable
	earlyWrite                  // Early
	lazyWrite                   // Lazy
)

// modeKey is the context key of a writeMode.
type modeKey struct{}

func modeOf(ctx context.Context) writeMode { m, _ := ctx.Value(modeKey{}).(writeMode); return m }

// waited undoes Early and Lazy for the writes under ctx: they are answered once durable.
func waited(ctx context.Context) context.Context {
	if modeOf(ctx) == waitWrite {
		return ctx
	}
	return context.WithValue(ctx, modeKey{}, waitWrite)
}

// Early returns a context under which SQLite writes return as soon as they ran in the group
// commit's current batch, before the batch commits; elsewhere it changes nothing. The caller
// sees the write's outcome (a refused quota, a placement) at once, and the write becomes
// durable with its batch — no later than the caller's next write that is not early, which is
// queued after it. Use it for a write whose effect nothing outside the store sees before such
// a later write: a flow task whose successor writes (a reservation before the volume row, a
// placement before the manager's saved boundary).
//
// A batch that answered early writes and then fails to commit breaks the store: every later
// write fails, since callers went on as if those writes were made (as PostgreSQL stops on a
// failed fsync). That takes an I/O error or a full disk at COMMIT.
func Early(ctx context.Context) context.Context { return context.WithValue(ctx, modeKey{}, earlyWrite) }

// Lazy returns a context under which SQLite writes are answered early (see Early) and, in
// addition, need not be committed at once: the transaction they ran in may stay open, for at
// most maxLinger, until a write that must commit joins it — one a caller waits for, or an
// early one, whose effect readers should see soon. Use it for a write that a later write of
// the same caller, one that waits, follows shortly (a reservation before the volume row, a
// placement before the manager's saved boundary): they share a commit instead of taking one
// each. Staged writes are lazy too.
func Lazy(ctx context.Context) context.Context { return context.WithValue(ctx, modeKey{}, lazyWrite) }

// maxLinger bounds how long a transaction of lazy writes only stays open.
const maxLinger = 5 * time.Millisecond

// maxBatch bounds the writes in one transaction, so that a long queue still commits often.
const maxBatch = 64

// errClosed is the error of a write after Close.
var errClosed = errors.New("the store is closed")

func newCommitter(s *Store, db string) *committer {
	c := &committer{s: s, reqs: make(chan *writeReq, maxBatch), quit: make(chan struct{}),
		stopped: make(chan struct{}), linger: maxLinger}
	if db != "" {
		c.wal = newWALSyncer(c, db)
	}
	go c.loop()
	return c
}

// do runs fn in the next batch and returns its outcome once the batch committed. fn runs on
// the committer's context, not ctx: a cancelled statement would make SQLite roll back the
// whole transaction and the other writes with it. A ctx that ends before fn starts fails the
// write without running it.
func (c *committer) do(ctx context.Context, fn func(*tx) error, single bool) error {
	mode := modeOf(ctx)
	r := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1), early: mode != waitWrite, lazy: mode == lazyWrite,
		single: single}
	if err := c.queue(r); err != nil {
		return err
	}
	return <-r.done
}

// stage queues fn for the next batch and returns at once. The write commits with its batch,
// before any write queued after it; a failure goes to failed (when not nil), on the goroutine
// that answers batches — the WAL syncer's, up to maxDefer after the commit, when there is one.
func (c *committer) stage(ctx context.Context, fn func(*tx) error, single bool, failed func(error)) error {
	return c.queue(&writeReq{ctx: ctx, fn: fn, failed: failed, single: single, lazy: true})
}

func (c *committer) queue(r *writeReq) error {
	ctx := r.ctx
	if err := c.brokenErr(); err != nil {
		return err
	}
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return errClosed
	}
	select {
	case c.reqs <- r:
	case <-ctx.Done():
		c.mu.RUnlock()
		return ctx.Err()
	}
	c.mu.RUnlock()
	return nil
}

// close stops the committer after the writes already queued.
func (c *committer) close() {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.quit)
	}
	c.mu.Unlock()
	<-c.stopped
}

func (c *committer) loop() {
	defer close(c.stopped)
	if c.wal != nil {
		defer c.wal.stop()
	}
	batch := make([]*writeReq, 0, maxBatch)
	for {
		batch = batch[:0]
		select {
		case r := <-c.reqs:
			batch = append(batch, r)
		case <-c.quit:
			// Senders are gone (close holds the lock); finish what they queued.
			for {
				select {
				case r := <-c.reqs:
					c.commit([]*writeReq{r}, false)
				default:
					return
				}
			}
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case r := <-c.reqs:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		c.commit(batch, true)
	}
}

func (c *committer) brokenErr() error {
	if p := c.broken.Load(); p != nil {
		return *p
	}
	return nil
}

// commit runs batch in one transaction and tells each write its outcome. With grow, the
// transaction also takes the writes that arrive while the WAL syncer is still busy with the
// previous commit (see run).
func (c *committer) commit(batch []*writeReq, grow bool) {
	var errs []error
	err := c.brokenErr()
	committed := false
	if err == nil {
		batch, errs, committed, err = c.run(batch, grow)
		if err != nil && promised(batch, errs) {
			c.breakDown(fmt.Errorf("a batch failed after its writers were told their writes would be made: %w", err))
		} else if i := stagedFailure(batch, errs); i >= 0 {
			c.breakDown(fmt.Errorf("a staged write failed, and writes queued after it may commit: %w", errs[i]))
		}
	} else {
		errs = make([]error, len(batch))
	}
	if err != nil {
		for i := range errs {
			// The batch's failure, not each write's own: %v, so that no write's error
			// matches what another one did.
			errs[i] = errors.Join(errs[i], fmt.Errorf("%v", err))
		}
	}
	if c.wal != nil {
		// Every outcome, committed or not, goes after the fsync of the batches before it: a
		// refusal may rest on a write that is committed but not yet durable.
		c.wal.after(slices.Clone(batch), errs, committed) // the loop reuses batch's array
		return
	}
	deliver(batch, errs)
}

// stagedFailure returns the index of a staged write of batch that failed, or -1.
func stagedFailure(batch []*writeReq, errs []error) int {
	for i, r := range batch {
		if r.done == nil && errs[i] != nil {
			return i
		}
	}
	return -1
}

// promised reports whether a write of batch was answered early as written, or was staged: its
// caller went on as if it would be made, so losing it means no write may follow.
func promised(batch []*writeReq, errs []error) bool {
	for i, r := range batch {
		if r.answered && errs[i] == nil || r.done == nil {
			return true
		}
	}
	return false
}

// breakDown stops the store from writing, for good, because of err.
func (c *committer) breakDown(err error) {
	broken := fmt.Errorf("the store stopped writing: %w", err)
	c.broken.CompareAndSwap(nil, &broken)
}

// deliver tells each write of batch its outcome, unless it was answered early.
func deliver(batch []*writeReq, errs []error) {
	for i, r := range batch {
		switch {
		case r.answered:
		case r.done != nil:
			r.done <- errs[i]
		case errs[i] != nil && r.failed != nil:
			r.failed(errs[i])
		}
	}
}

// run runs the batch, recording each write's own failure in errs, and reports whether it
// committed. A non-nil error failed the whole transaction: nothing of the batch is written.
//
// With grow, while the WAL syncer is still fsyncing an earlier commit, the transaction stays
// open and takes every write that arrives, up to maxBatch, and commits when the syncer is
// free: a commit made before then would only wait for the syncer's next fsync anyway. So each
// fsync covers one commit, not the two or three that arrived during the previous fsync, and
// a page that several of them change is written to the log once. The cost is that readers
// see a round's writes when it commits, up to one fsync later than otherwise — never later
// than its writers are told.
func (c *committer) run(batch []*writeReq, grow bool) ([]*writeReq, []error, bool, error) {
	errs := make([]error, len(batch), maxBatch)
	ctx := context.Background()
	sqlTx, err := c.begin(ctx)
	if err != nil {
		return batch, errs, false, err
	}
	// token: the syncer is free to take this commit (walSyncer.ready); there is none to wait
	// for without grow or without a syncer. lazy: every write so far may wait in the open
	// transaction for one that must commit (Lazy).
	token := !grow || c.wal == nil || c.wal.take()
	lazy := grow && !slices.ContainsFunc(batch, func(r *writeReq) bool { return !r.lazy })
	t := &tx{tx: sqlTx, d: c.s.d, ctx: ctx, stmts: c.s.wstmts}
	alone := len(batch) == 1 && token && !lazy
	ok := 0
	write := func(i int, r *writeReq) error {
		if err := c.brokenErr(); err != nil {
			return err // a failed fsync meanwhile: nothing more may be written
		}
		if errs[i] = r.ctx.Err(); errs[i] != nil {
			lazy = false
			return nil
		}
		t.now = c.s.now().Truncate(time.Microsecond)
		if alone {
			errs[i] = call(r.fn, t)
		} else if r.single {
			if errs[i] = call(r.fn, t); errs[i] != nil && !statementOnly(errs[i]) {
				return fmt.Errorf("a write of the batch failed: %w", errs[i])
			}
		} else if err := t.savepoint(func() error { errs[i] = call(r.fn, t); return errs[i] }); err != nil {
			return err
		}
		if errs[i] == nil {
			ok++
		}
		// Only a success is answered early. A refusal may rest on an earlier write of the
		// open transaction: it is answered, as a waited write is, after the fsync covering it.
		if r.early && errs[i] == nil {
			r.done <- nil
			r.answered = true
		}
		if !r.lazy || errs[i] != nil {
			lazy = false
		}
		return nil
	}
	for i, r := range batch {
		if err := write(i, r); err != nil {
			return batch, errs, false, errors.Join(err, ignoreDone(sqlTx.Rollback()))
		}
	}
	var linger <-chan time.Time
	if lazy {
		timer := time.NewTimer(c.linger)
		defer timer.Stop()
		linger = timer.C
	}
	for (lazy || !token) && len(batch) < maxBatch {
		var ready <-chan struct{}
		if !token {
			ready = c.wal.ready
		}
		select {
		case <-ready:
			token = true
		case <-linger:
			lazy = false
		case r := <-c.reqs:
			batch, errs = append(batch, r), append(errs, nil)
			if err := write(len(batch)-1, r); err != nil {
				return batch, errs, false, errors.Join(err, ignoreDone(sqlTx.Rollback()))
			}
		}
	}
	if ok == 0 {
		return batch, errs, false, ignoreDone(sqlTx.Rollback())
	}
	if err := c.brokenErr(); err != nil {
		return batch, errs, false, errors.Join(err, ignoreDone(sqlTx.Rollback()))
	}
	if err := sqlTx.Commit(); err != nil {
		return batch, errs, false, err
	}
	c.commits.Add(1)
	return batch, errs, true, nil
}

// begin starts the batch's transaction. BEGIN IMMEDIATE fails only when another process holds
// the database's write lock past busy_timeout; it is tried a few times, since the writes of a
// batch that fails to begin are lost to callers that went on (staged ones).
func (c *committer) begin(ctx context.Context) (*sql.Tx, error) {
	var err error
	for range 3 {
		var t *sql.Tx
		if t, err = c.s.w.BeginTx(ctx, nil); err == nil {
			return t, nil
		}
	}
	return nil, err
}

// statementOnly reports whether SQLite undid only the failed statement, leaving the
// transaction as it was: a constraint, a mismatch, a range or a misuse error. Others — a full
// disk, I/O, busy, out of memory, an interrupt, corruption — may have rolled back the whole
// transaction, and so does a panic, for all that can be known.
func statementOnly(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code() & 0xff {
	case sqlite3.SQLITE_CONSTRAINT, sqlite3.SQLITE_MISMATCH, sqlite3.SQLITE_RANGE, sqlite3.SQLITE_TOOBIG,
		sqlite3.SQLITE_ERROR:
		return true
	}
	return false
}

// savepoint runs fn inside a savepoint and rolls back to it when fn fails. Its own error means
// the transaction can no longer be trusted (SQLite rolls a whole transaction back on some
// errors, such as a full disk).
func (t *tx) savepoint(fn func() error) error {
	if _, err := t.exec("SAVEPOINT w"); err != nil {
		return err
	}
	if fn() != nil {
		if _, err := t.exec("ROLLBACK TO w"); err != nil {
			return err
		}
	}
	_, err := t.exec("RELEASE w")
	return err
}

// call runs fn, turning a panic into its error: the committer serves every writer and must
// outlive a bug in one of them.
func call(fn func(*tx) error, t *tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in a write: %v", p)
		}
	}()
	return fn(t)
}
