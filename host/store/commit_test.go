package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kilnstorage/kiln/host/flow"
)

func openSQLite(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "kiln.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.w.Exec("CREATE TABLE t (k TEXT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	return s
}

// countSyncs counts the syncer's fsyncs from now on and sets how long it may defer one. Call
// it before the test's writes, which publish both to the syncer.
func countSyncs(s *Store, maxDefer time.Duration) *atomic.Int64 {
	w := s.commit.wal
	var syncs atomic.Int64
	synced := w.sync
	w.sync = func() error { syncs.Add(1); return synced() }
	w.maxDefer = maxDefer
	return &syncs
}

func insert(k string) func(*tx) error {
	return func(t *tx) error {
		_, err := t.exec("INSERT INTO t (k) VALUES (?)", k)
		return err
	}
}

func keys(t *testing.T, s *Store) string {
	t.Helper()
	rows, err := s.query(t.Context(), "SELECT k FROM t ORDER BY k")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		out = append(out, k)
	}
	return strings.Join(out, ",")
}

// TestCommitter_batchKeepsEachWriteAlone runs a batch in which writes fail in three ways (an
// error, a constraint violation half-way through, a panic) among writes that succeed: only the
// failing ones are undone, each gets its own outcome, and staged writes commit in order.
func TestCommitter_batchKeepsEachWriteAlone(t *testing.T) {
	s := openSQLite(t)
	boom := errors.New("boom")
	var stagedErr error
	batch := []*writeReq{
		{fn: insert("a")},
		{fn: func(t *tx) error { _ = insert("x")(t); return boom }},
		{fn: func(t *tx) error { _ = insert("y")(t); return insert("a")(t) }}, // duplicate key
		{fn: func(t *tx) error { _ = insert("z")(t); panic("bug") }},
		{fn: insert("b"), failed: func(err error) { stagedErr = err }},
		{fn: insert("b"), failed: func(err error) { stagedErr = err }}, // staged duplicate
		{fn: insert("c")},
	}
	for _, r := range batch {
		r.ctx = t.Context()
		if r.failed == nil {
			r.done = make(chan error, 1)
		}
	}
	s.commit.commit(batch, false)
	outcome := func(i int) error { return <-batch[i].done }
	if err := outcome(0); err != nil {
		t.Errorf("a: %v", err)
	}
	if err := outcome(1); !errors.Is(err, boom) {
		t.Errorf("x: got %v, want boom", err)
	}
	if err := outcome(2); !duplicate(err) {
		t.Errorf("y: got %v, want a duplicate key", err)
	}
	if err := outcome(3); err == nil || !strings.Contains(err.Error(), "panic in a write: bug") {
		t.Errorf("z: got %v, want the panic", err)
	}
	if err := outcome(6); err != nil {
		t.Errorf("c: %v", err)
	}
	if !duplicate(stagedErr) {
		t.Errorf("staged duplicate: failure %v, want a duplicate key", stagedErr)
	}
	if got := keys(t, s); got != "a,b,c" {
		t.Errorf("rows %q, want a,b,c", got)
	}
}

// TestCommitter_concurrentWrites has many goroutines write at once, through write: every write
// lands, once.
func TestCommitter_concurrentWrites(t *testing.T) {
	s := openSQLite(t)
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			if err := s.write(t.Context(), "insert", insert(string(rune('A'+i%26))+strings.Repeat("x", i))); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	var n int
	if err := s.queryRow(t.Context(), "SELECT COUNT(*) FROM t").Scan(&n); err != nil || n != 200 {
		t.Errorf("rows: %d (%v), want 200", n, err)
	}
}

// TestCommitter_cancelledAndClosed: a write whose context ended before it ran does not run; a
// write after Close fails with errClosed; writes queued before Close still commit.
func TestCommitter_cancelledAndClosed(t *testing.T) {
	s := openSQLite(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r := &writeReq{ctx: ctx, fn: insert("never"), done: make(chan error, 1)}
	s.commit.commit([]*writeReq{r, {ctx: t.Context(), fn: insert("ok"), done: make(chan error, 1)}}, false)
	if err := <-r.done; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled write: %v", err)
	}
	if err := s.commit.stage(t.Context(), insert("staged"), true, func(err error) { t.Error(err) }); err != nil {
		t.Fatal(err)
	}
	s.commit.close()
	if got := keys(t, s); got != "ok,staged" {
		t.Errorf("rows %q, want ok,staged", got)
	}
	if err := s.write(t.Context(), "late", insert("late")); !errors.Is(err, errClosed) {
		t.Errorf("write after close: %v, want errClosed", err)
	}
}

// TestCommitter_early: an early write is answered before its batch commits, with its own
// outcome, and is durable once a later write of the caller is.
func TestCommitter_early(t *testing.T) {
	s := openSQLite(t)
	ctx := Early(t.Context())
	if err := s.write(ctx, "early", insert("a")); err != nil {
		t.Fatal(err)
	}
	if err := s.write(ctx, "early duplicate", insert("a")); !duplicate(err) {
		t.Errorf("early duplicate: %v, want its own failure", err)
	}
	if err := s.write(t.Context(), "awaited", insert("b")); err != nil {
		t.Fatal(err)
	}
	if got := keys(t, s); got != "a,b" {
		t.Errorf("rows %q, want a,b", got)
	}
}

// TestCommitter_brokenAfterEarly: when a batch that answered an early write fails to commit,
// every later write fails: its caller went on as if the early write were made.
func TestCommitter_brokenAfterEarly(t *testing.T) {
	s := openSQLite(t)
	// A deferred foreign key fails only at COMMIT, after the early answer.
	if _, err := s.w.Exec(`CREATE TABLE child (k TEXT REFERENCES t (k) DEFERRABLE INITIALLY DEFERRED)`); err != nil {
		t.Fatal(err)
	}
	orphan := func(t *tx) error { _, err := t.exec("INSERT INTO child (k) VALUES ('none')"); return err }
	if err := s.write(Early(t.Context()), "early orphan", orphan); err != nil {
		t.Fatalf("early answer: %v, want success (the failure comes at commit)", err)
	}
	// The next write either shares the failing transaction (the writer may still hold it open)
	// or finds the store stopped; any later one finds it stopped.
	if err := s.write(t.Context(), "after", insert("x")); err == nil {
		t.Error("a write after the failed commit succeeded")
	}
	err := s.write(t.Context(), "later", insert("y"))
	if err == nil || !strings.Contains(err.Error(), "stopped writing") {
		t.Errorf("a later write: %v, want the store stopped", err)
	}
	if got := keys(t, s); got != "" {
		t.Errorf("rows %q, want none", got)
	}
}

// TestJournal_coalesces: while a flow's staged entry waits in the queue, newer entries and the
// flow's end take its place, so the table is written once; a Save waits for what it replaced.
func TestJournal_coalesces(t *testing.T) {
	s := openSQLite(t)
	if _, err := s.w.Exec(`CREATE TABLE writes (n INTEGER); INSERT INTO writes VALUES (0);
		CREATE TRIGGER ji AFTER INSERT ON flow_journal BEGIN UPDATE writes SET n = n + 1; END;
		CREATE TRIGGER ju AFTER UPDATE ON flow_journal BEGIN UPDATE writes SET n = n + 1; END;
		CREATE TRIGGER jd AFTER DELETE ON flow_journal BEGIN UPDATE writes SET n = n + 1; END;`); err != nil {
		t.Fatal(err)
	}
	j := s.Journal("")
	ctx := t.Context()
	// Hold the committer, so that the entries below wait in the queue together.
	release := make(chan struct{})
	held := make(chan struct{})
	if err := s.commit.stage(ctx, func(*tx) error { close(held); <-release; return nil }, true, nil); err != nil {
		t.Fatal(err)
	}
	<-held
	for task := range 3 {
		if err := j.Stage(ctx, flow.Entry{ID: "f", Flow: "x", Task: task, Phase: flow.Executing, State: []byte("{}")}); err != nil {
			t.Fatal(err)
		}
	}
	close(release)
	if err := j.Save(ctx, flow.Entry{ID: "f", Flow: "x", Task: 3, Phase: flow.Executing, State: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	entries, err := j.Unfinished(ctx)
	if err != nil || len(entries) != 1 || entries[0].Task != 3 {
		t.Fatalf("Unfinished = %+v, %v; want task 3", entries, err)
	}
	var n int
	if err := s.queryRow(ctx, "SELECT n FROM writes").Scan(&n); err != nil || n > 2 {
		t.Errorf("%d writes to the journal, want at most 2 (the three staged entries as one, and the save)", n)
	}
	if err := j.StageFinish(ctx, "f"); err != nil {
		t.Fatal(err)
	}
	if entries, err := j.Unfinished(ctx); err != nil || len(entries) != 0 {
		t.Errorf("after the end: %+v, %v", entries, err)
	}
}

// TestCommitter_singleWriteFailures: a write that runs without a savepoint fails alone when
// SQLite undid just its statement (a constraint), and takes its batch with it otherwise (here a
// panic, after which nothing shows what the transaction holds); the others then fail with the
// batch's failure, not with an error of the write that caused it.
func TestCommitter_singleWriteFailures(t *testing.T) {
	s := openSQLite(t)
	run := func(batch []*writeReq) []error {
		for _, r := range batch {
			r.ctx, r.done = t.Context(), make(chan error, 1)
		}
		s.commit.commit(batch, false)
		var errs []error
		for _, r := range batch {
			errs = append(errs, <-r.done)
		}
		return errs
	}
	errs := run([]*writeReq{{fn: insert("a")}, {fn: insert("a"), single: true}, {fn: insert("b")}})
	if errs[0] != nil || !duplicate(errs[1]) || errs[2] != nil {
		t.Errorf("a duplicate key in a single write: %v", errs)
	}
	bug := func(*tx) error { panic("bug") }
	errs = run([]*writeReq{{fn: insert("c")}, {fn: bug, single: true}, {fn: insert("d")}})
	for i, err := range errs {
		if err == nil || !strings.Contains(err.Error(), "panic in a write: bug") {
			t.Errorf("write %d of a batch with a panicking single write: %v", i, err)
		}
	}
	retry := func(*tx) error { return errRetry }
	errs = run([]*writeReq{{fn: insert("y")}, {fn: retry, single: true}})
	if !errors.Is(errs[1], errRetry) || errs[0] == nil || errors.Is(errs[0], errRetry) {
		t.Errorf("the cause %v; the bystander %v, which must fail without matching the cause", errs[1], errs[0])
	}
	if got := keys(t, s); got != "a,b" {
		t.Errorf("rows %q, want a,b", got)
	}
}

// TestWALSyncer_failedFsyncStops: when the fsync of the WAL fails, the writes of the batches it
// covered hear that their commit may not be durable, and the store writes nothing more.
func TestWALSyncer_failedFsyncStops(t *testing.T) {
	s := openSQLite(t)
	if s.commit.wal == nil {
		t.Fatal("a default SQLite store does not sync its WAL itself")
	}
	if err := s.write(t.Context(), "first", insert("a")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(s.commit.wal.path + "-wal"); err != nil { // the next fsync fails
		t.Fatal(err)
	}
	if err := s.write(t.Context(), "second", insert("b")); err == nil || !strings.Contains(err.Error(), "may not be durable") {
		t.Errorf("write whose fsync failed: %v", err)
	}
	if err := s.write(t.Context(), "third", insert("c")); err == nil || !strings.Contains(err.Error(), "stopped writing") {
		t.Errorf("write after a failed fsync: %v", err)
	}
}

// TestJournal_stagedFailure: a batch that fails with a flow's staged entry in it stops the
// store (later writes of the flow may not commit ahead of the lost entry), the flow hears of
// it, and its queue slot is not left behind for later entries to vanish into.
func TestJournal_stagedFailure(t *testing.T) {
	s := openSQLite(t)
	j := s.Journal("")
	ctx := t.Context()
	release, held := make(chan struct{}), make(chan struct{})
	if err := s.commit.stage(ctx, func(*tx) error { close(held); <-release; return nil }, true, nil); err != nil {
		t.Fatal(err)
	}
	<-held
	if err := s.commit.stage(ctx, func(*tx) error { panic("bug") }, true, func(error) {}); err != nil {
		t.Fatal(err)
	}
	if err := j.Stage(ctx, flow.Entry{ID: "f", Flow: "x", Phase: flow.Executing, State: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	close(release)
	err := j.Save(ctx, flow.Entry{ID: "f", Flow: "x", Task: 1, Phase: flow.Executing, State: []byte("{}")})
	if err == nil {
		t.Fatal("Save after the flow's staged entry was lost: nil")
	}
	// The failure reaches the journal once the batch is answered (after the syncer's turn).
	queued := func() bool {
		j.mu.Lock()
		defer j.mu.Unlock()
		_, ok := j.queued["f"]
		return ok
	}
	for deadline := time.Now().Add(5 * time.Second); queued() && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if queued() {
		t.Error("the lost entry's slot is still queued")
	}
	if err := s.write(ctx, "later", insert("z")); err == nil || !strings.Contains(err.Error(), "stopped writing") {
		t.Errorf("a later write: %v, want the store stopped", err)
	}
}

// TestWALSyncer_symlinkedDatabase: the log SQLite writes sits beside the file a symbolic link
// resolves to, and that is the file the store fsyncs.
func TestWALSyncer_symlinkedDatabase(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "kiln.db")
	if err := os.Symlink(filepath.Join(dir, "data", "kiln.db"), link); err != nil {
		t.Fatal(err)
	}
	s, err := Open(t.Context(), link)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.write(t.Context(), "create", func(t *tx) error { _, err := t.exec("CREATE TABLE t (k TEXT)"); return err }); err != nil {
		t.Fatal(err)
	}
	open, err := s.commit.wal.f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	real, err := os.Stat(filepath.Join(dir, "data", "kiln.db-wal"))
	if err != nil || !os.SameFile(open, real) {
		t.Errorf("the store fsyncs %v, not the WAL beside the link's target (%v)", open.Name(), err)
	}
}

// TestCommitter_writesDuringAnFsyncShareOneCommit holds the WAL syncer inside an fsync and
// writes meanwhile: the writes run at once (their early answers come back) but stay in one
// open transaction, invisible to readers, which commits once when the syncer is free.
func TestCommitter_writesDuringAnFsyncShareOneCommit(t *testing.T) {
	s := openSQLite(t)
	w := s.commit.wal
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	synced := w.sync
	w.sync = func() error { // the writes below publish this to the syncer
		once.Do(func() { close(entered); <-release })
		return synced()
	}
	first := make(chan error, 1)
	go func() { first <- s.commit.do(t.Context(), insert("a"), true) }()
	<-entered
	before := s.commit.commits.Load()
	for _, k := range []string{"b", "c", "d", "e", "f"} {
		if err := s.commit.do(Early(t.Context()), insert(k), true); err != nil {
			t.Fatal(err)
		}
	}
	if got := keys(t, s); got != "a" {
		t.Errorf("while the syncer is busy, readers see %q, want only the committed a", got)
	}
	if n := s.commit.commits.Load() - before; n != 0 {
		t.Errorf("%d commits while the syncer was busy, want the writes held in one transaction", n)
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := s.commit.do(t.Context(), func(*tx) error { return nil }, true); err != nil {
		t.Fatal(err)
	}
	if n := s.commit.commits.Load() - before; n > 2 {
		t.Errorf("five writes made during one fsync took %d commits, want one (and one for the last write)", n)
	}
	if got := keys(t, s); got != "a,b,c,d,e,f" {
		t.Errorf("after the fsync, readers see %q", got)
	}
}

// TestWALSyncer_defersBatchesNobodyWaitsFor: a batch of early-answered and staged writes
// only is not fsynced on its own; the next write a caller waits for is, and covers it. With
// nothing more written, the deferred batch is synced within maxDefer.
func TestWALSyncer_defersBatchesNobodyWaitsFor(t *testing.T) {
	s := openSQLite(t)
	syncs := countSyncs(s, time.Hour)
	failed := make(chan error, 1)
	if err := s.commit.stage(t.Context(), insert("a"), true, func(err error) { failed <- err }); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"b", "c"} {
		if err := s.commit.do(Early(t.Context()), insert(k), true); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.commit.do(Early(t.Context()), func(*tx) error { return nil }, true); err != nil {
		t.Fatal(err)
	}
	if n := syncs.Load(); n != 0 {
		t.Errorf("%d fsyncs for writes nobody waits for, want them deferred", n)
	}
	if err := s.commit.do(t.Context(), insert("d"), true); err != nil {
		t.Fatal(err)
	}
	if n := syncs.Load(); n != 1 {
		t.Errorf("%d fsyncs after a waited write, want exactly 1, covering the deferred ones", n)
	}
	if got := keys(t, s); got != "a,b,c,d" {
		t.Errorf("rows %q", got)
	}
	select {
	case err := <-failed:
		t.Errorf("the staged write failed: %v", err)
	default:
	}
}

func TestWALSyncer_deferredBatchIsSyncedInTime(t *testing.T) {
	s := openSQLite(t)
	syncs := countSyncs(s, time.Millisecond)
	if err := s.commit.do(Early(t.Context()), insert("a"), true); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); syncs.Load() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("a deferred batch was never synced")
		}
	}
}

// TestCommitter_lazyWritesWaitForOneThatMustCommit: lazy and staged writes stay in the open
// transaction, unseen by readers, until a write that must commit joins them; they then share
// its commit. Alone, they commit after the linger.
func TestCommitter_lazyWritesWaitForOneThatMustCommit(t *testing.T) {
	s := openSQLite(t)
	s.commit.linger = time.Hour // set before the writes below, which publish it
	before := s.commit.commits.Load()
	if err := s.commit.do(Lazy(t.Context()), insert("a"), true); err != nil {
		t.Fatal(err)
	}
	if err := s.commit.stage(t.Context(), insert("b"), true, func(err error) { t.Error(err) }); err != nil {
		t.Fatal(err)
	}
	if err := s.commit.do(Lazy(t.Context()), insert("c"), true); err != nil {
		t.Fatal(err)
	}
	if got := keys(t, s); got != "" {
		t.Errorf("readers see %q before a write that must commit, want nothing", got)
	}
	if err := s.commit.do(t.Context(), insert("d"), true); err != nil {
		t.Fatal(err)
	}
	if got := keys(t, s); got != "a,b,c,d" {
		t.Errorf("after a waited write, readers see %q", got)
	}
	if n := s.commit.commits.Load() - before; n != 1 {
		t.Errorf("%d commits for three lazy writes and a waited one, want 1", n)
	}

	s2 := openSQLite(t)
	s2.commit.linger = time.Millisecond
	if err := s2.commit.do(Lazy(t.Context()), insert("e"), true); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); keys(t, s2) != "e"; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("a lazy write alone was never committed")
		}
	}
}

// TestWALSyncer_noDurableAnswerAfterAFailedFsync: once an fsync failed, a write that was
// already in the open transaction is not told it is durable, even if a later fsync would
// succeed (Linux reports a writeback error once per open file).
func TestWALSyncer_noDurableAnswerAfterAFailedFsync(t *testing.T) {
	s := openSQLite(t)
	w := s.commit.wal
	entered, release := make(chan struct{}), make(chan struct{})
	var calls atomic.Int64
	synced := w.sync
	w.sync = func() error {
		if calls.Add(1) == 1 {
			close(entered)
			<-release
			return errors.New("EIO")
		}
		return synced()
	}
	first := make(chan error, 1)
	go func() { first <- s.commit.do(t.Context(), insert("a"), true) }()
	<-entered
	ran, second := make(chan struct{}), make(chan error, 1)
	go func() {
		second <- s.commit.do(t.Context(), func(tx *tx) error { close(ran); return insert("b")(tx) }, true)
	}()
	<-ran // b waits in the open transaction for the syncer
	close(release)
	if err := <-first; err == nil {
		t.Error("a was told it is durable after its fsync failed")
	}
	if err := <-second; err == nil {
		t.Error("b was told it is durable after the store broke down")
	}
}

// TestCommitter_lazyRefusalWaitsForTheFsync: an early or lazy write that fails is answered as
// a waited one is, after the fsync covering the writes its refusal may rest on.
func TestCommitter_lazyRefusalWaitsForTheFsync(t *testing.T) {
	s := openSQLite(t)
	syncs := countSyncs(s, time.Hour)
	s.commit.linger = time.Millisecond
	if err := s.commit.do(Lazy(t.Context()), insert("q"), true); err != nil {
		t.Fatal(err)
	}
	err := s.commit.do(Lazy(t.Context()), insert("q"), true)
	if err == nil {
		t.Fatal("a duplicate key was not refused")
	}
	if syncs.Load() == 0 {
		t.Errorf("the refusal %v was answered before any fsync", err)
	}
}
