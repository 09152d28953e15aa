package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"github.com/kilnstorage/kiln/host/volume"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "modernc.org/sqlite"             // database/sql driver "sqlite"
)

// Store is Kiln's persistent state. It is safe for concurrent use.
type Store struct {
	d dialect
	// w runs every write transaction: for SQLite one connection, so writers queue in Go
	// instead of failing with SQLITE_BUSY; for PostgreSQL the pool.
	w *sql.DB
	// r serves reads outside transactions: for SQLite a pool of query_only connections that
	// read beside the writer (WAL); for PostgreSQL the same pool as w.
	r *sql.DB
	// wstmts and rstmts are the prepared statements of w and r (SQLite only).
	wstmts, rstmts *stmtCache
	// commit runs SQLite's writes, several to a transaction (nil for PostgreSQL).
	commit *committer
	opts   options
	// reports caches the pools' decoded capability reports.
	reports *reportCache
	// typeNames caches volume type names by ID (VolumeTypeName).
	typeNames sync.Map
}

// Option configures Open.
type Option func(*options)

type options struct {
	quota             Limits
	snapshotGigabytes bool
	now               func() time.Time
	maxConns          int
}

// WithQuotaDefaults sets the operator's default limits, overriding Cinder's (DefaultLimits) key
// by key. Rows of the "default" quota class, set through the API, override these in turn.
func WithQuotaDefaults(l Limits) Option {
	return func(o *options) { o.quota = l }
}

// WithoutSnapshotGigabytes leaves snapshots out of the gigabytes quota (Cinder's
// no_snapshot_gb_quota).
func WithoutSnapshotGigabytes() Option {
	return func(o *options) { o.snapshotGigabytes = false }
}

// WithClock sets the clock the store stamps rows with (tests).
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// WithMaxConns bounds the PostgreSQL pool, or SQLite's reader pool (default 16 and
// max(4, GOMAXPROCS)).
func WithMaxConns(n int) Option {
	return func(o *options) { o.maxConns = n }
}

// Open opens the database that dsn names, creating it if needed, and migrates it to the
// current schema. dsn is "postgres://…" (or "postgresql://…") for PostgreSQL through pgx, and
// "sqlite:///abs/path.db", "sqlite://rel/path.db" or a plain file path for SQLite; a SQLite
// DSN may add "?synchronous=normal" to trade the durability of the last commits on power loss
// for throughput.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	o := options{snapshotGigabytes: true, now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	src, err := parseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s := &Store{d: src.d, opts: o, reports: &reportCache{}}
	if err := s.connect(src); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	if err := s.ensureDefaultType(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	return s, nil
}

func (s *Store) connect(src source) error {
	if s.d.dollar {
		db, err := sql.Open("pgx", src.write)
		if err != nil {
			return err
		}
		n := orDefault(s.opts.maxConns, 16)
		db.SetMaxOpenConns(n)
		db.SetMaxIdleConns(n)
		s.w, s.r = db, db
		return nil
	}
	w, err := sql.Open("sqlite", src.write)
	if err != nil {
		return err
	}
	w.SetMaxOpenConns(1)
	r, err := sql.Open("sqlite", src.read)
	if err != nil {
		w.Close()
		return err
	}
	n := orDefault(s.opts.maxConns, max(4, runtime.GOMAXPROCS(0)))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	s.w, s.r = w, r
	if src.wal != "" {
		if err := keepFull(w); err != nil {
			// Not in WAL mode (a file system without shared memory): SQLite's own FULL.
			src.wal = ""
			if _, err := w.Exec("PRAGMA synchronous = FULL"); err != nil {
				return errors.Join(err, w.Close(), r.Close())
			}
		}
	}
	s.wstmts, s.rstmts = newStmtCache(w), newStmtCache(r)
	s.commit = newCommitter(s, src.wal)
	return nil
}

// keepFull checks that the writer is in WAL mode, which the store's own fsync of the log
// (walSyncer) needs.
func keepFull(w *sql.DB) error {
	var mode string
	if err := w.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if mode != "wal" {
		return fmt.Errorf("journal mode %s, not wal", mode)
	}
	return nil
}

// orDefault returns v, or def when v is not positive.
func orDefault(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// Close closes the database.
func (s *Store) Close() error {
	if s.commit != nil {
		s.commit.close()
	}
	s.wstmts.close()
	s.rstmts.close()
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	return err
}

// Dialect names the database: "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.d.name }

func (s *Store) now() time.Time { return s.opts.now().UTC() }

// tx is a transaction with the dialect's placeholders. It keeps the context of the call that
// runs it, and lives only as long as that call. now is the time it stamps rows with, in
// microseconds as they are stored. stmts holds the prepared statements of its database (nil
// for PostgreSQL).
type tx struct {
	tx    *sql.Tx
	d     dialect
	ctx   context.Context
	now   time.Time
	stmts *stmtCache
}

// stmt returns q prepared for this transaction, or nil to run q as it is.
func (t *tx) stmt(q string) *sql.Stmt {
	if st := t.stmts.get(q); st != nil {
		return t.tx.StmtContext(t.ctx, st)
	}
	return nil
}

func (t *tx) exec(q string, args ...any) (sql.Result, error) {
	q = t.d.rebind(q)
	if st := t.stmt(q); st != nil {
		return st.ExecContext(t.ctx, args...)
	}
	return t.tx.ExecContext(t.ctx, q, args...)
}

// execScript runs q, which may hold several statements, unprepared (migrations).
func (t *tx) execScript(q string) error {
	_, err := t.tx.ExecContext(t.ctx, q)
	return err
}

func (t *tx) query(q string, args ...any) (*sql.Rows, error) {
	q = t.d.rebind(q)
	if st := t.stmt(q); st != nil {
		return st.QueryContext(t.ctx, args...)
	}
	return t.tx.QueryContext(t.ctx, q, args...)
}

func (t *tx) queryRow(q string, args ...any) *sql.Row {
	q = t.d.rebind(q)
	if st := t.stmt(q); st != nil {
		return st.QueryRowContext(t.ctx, args...)
	}
	return t.tx.QueryRowContext(t.ctx, q, args...)
}

// execOne runs a statement that must change exactly one row. It follows a read that found the
// row, so changing none means a concurrent transaction changed it: errRetry.
func (t *tx) execOne(q string, args ...any) error {
	res, err := t.exec(q, args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return errors.Join(err, errRetry)
	}
	return nil
}

// errRetry asks write to run the transaction again: what it read changed under it.
var errRetry = errors.New("concurrent change, retry")

// write runs fn in one write transaction and commits it. A transaction that failed only because
// of a concurrent one (deadlock, serialization failure, busy, errRetry) runs again after a short
// random pause, a bounded number of times (retries). Errors are wrapped with op.
func (s *Store) write(ctx context.Context, op string, fn func(*tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.writeOnce(ctx, fn)
		if err == nil {
			return nil
		}
		if attempt >= retries(err) || ctx.Err() != nil {
			return wrap(op, err)
		}
		pause := time.Duration(rand.Int64N(int64(min(attempt, 20)) * int64(time.Millisecond)))
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", op, ctx.Err())
		case <-time.After(pause):
		}
	}
}

func (s *Store) writeOnce(ctx context.Context, fn func(*tx) error) error {
	if s.commit != nil {
		return s.commit.do(ctx, fn, false)
	}
	return s.run(ctx, s.w, nil, nil, fn)
}

// wrap adds op to err, unless err is a refused transition, whose message names the operation
// and the row already.
func wrap(op string, err error) error {
	if _, ok := errors.AsType[*volume.TransitionError](err); ok {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}

// read runs fn in one read-only transaction: a consistent snapshot beside the writer.
func (s *Store) read(ctx context.Context, op string, fn func(*tx) error) error {
	if err := s.run(ctx, s.r, s.rstmts, &sql.TxOptions{ReadOnly: true}, fn); err != nil {
		return wrap(op, err)
	}
	return nil
}

func (s *Store) run(ctx context.Context, db *sql.DB, stmts *stmtCache, opts *sql.TxOptions, fn func(*tx) error) error {
	sqlTx, err := db.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	t := &tx{tx: sqlTx, d: s.d, ctx: ctx, now: s.now().Truncate(time.Microsecond), stmts: stmts}
	if err := fn(t); err != nil {
		return errors.Join(err, ignoreDone(sqlTx.Rollback()))
	}
	return sqlTx.Commit()
}

func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

// query runs a read outside any transaction.
func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	q = s.d.rebind(q)
	if st := s.rstmts.get(q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.r.QueryContext(ctx, q, args...)
}

// closeRows closes rows and returns the error that ended their iteration, if any.
func closeRows(rows *sql.Rows) error {
	return errors.Join(rows.Err(), rows.Close())
}

// queryRow runs a one-row read outside any transaction.
//
// The query runs without ctx's cancellation (its values stay): a cancellable context costs
// every query two goroutines, database/sql's and the SQLite driver's, each started and woken
// to watch for an end that a lookup of one row never waits for.
func (s *Store) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	ctx = context.WithoutCancel(ctx)
	q = s.d.rebind(q)
	if st := s.rstmts.get(q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.r.QueryRowContext(ctx, q, args...)
}
