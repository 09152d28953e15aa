package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// walSyncer makes SQLite's commits durable off the writer's path. With synchronous=FULL,
// SQLite fsyncs the write-ahead log inside every COMMIT, and the single writer can do nothing
// else meanwhile: on this kind of machine the fsync was half the writer's time. Instead the
// writer commits with synchronous=NORMAL — the WAL frames are written, not synced — and goes
// on to the next batch, while this goroutine fsyncs the WAL file once for every batch
// committed since its last fsync, and only then tells those batches' writers their outcome.
// (While it is busy the writer keeps its next batch's transaction open, so that an fsync
// usually covers one commit: committer.run.) An fsync of the WAL covers every frame written before it began, so no write is reported
// durable before it is: what a caller is told is what synchronous=FULL would have told it.
//
// What differs from FULL: other connections see a committed batch before the fsync, so a
// reader may see a state that an operating-system crash or a power loss (not a crash of Kiln,
// whose writes are in the kernel's cache by then) would take back. Every such state is
// in-flight work the journal recovers: no caller was told it was done. SQLite still syncs the
// WAL before each checkpoint and the database after it (NORMAL's rule), so the database
// stays consistent whatever happens. A failed fsync stops the store (committer.breakDown),
// as PostgreSQL stops on one: the kernel may have dropped the pages it could not write.
type walSyncer struct {
	c *committer
	// path is the database's; its log, wal, is beside the file it resolves to (walPath),
	// resolved on first use.
	path, wal string
	f         *os.File
	batches   chan syncedBatch
	done      chan struct{}
	// sync makes the log durable: syncWAL, or a stand-in in tests.
	sync func() error
	// maxDefer is how long a batch nobody waits for may stay unsynced (see loop).
	maxDefer time.Duration
	// ready holds a token while the syncer is free: it has answered, or deferred (see loop),
	// every batch handed to it. The committer takes it to commit (committer.run).
	ready chan struct{}
	// lost is the first failed fsync's error. Linux reports a writeback error once per open
	// file, so a later fsync may succeed over pages the kernel dropped: after one failure no
	// commit is ever reported durable again.
	lost error
}

// syncedBatch is a batch waiting to be answered: after the fsync that makes it durable when it
// committed, and in any case after the batches before it.
type syncedBatch struct {
	batch     []*writeReq
	errs      []error
	committed bool
}

func newWALSyncer(c *committer, path string) *walSyncer {
	w := &walSyncer{c: c, path: path, batches: make(chan syncedBatch, maxBatch), done: make(chan struct{}),
		ready: make(chan struct{}, 1)}
	w.sync, w.maxDefer = w.syncWAL, maxDefer
	w.ready <- struct{}{}
	go w.loop()
	return w
}

// after hands a batch to the syncer, which answers it in order.
func (w *walSyncer) after(batch []*writeReq, errs []error, committed bool) {
	w.batches <- syncedBatch{batch, errs, committed}
}

// take takes the ready token if the syncer is free, and reports whether it did.
func (w *walSyncer) take() bool {
	select {
	case <-w.ready:
		return true
	default:
		return false
	}
}

// stop ends the syncer once it has synced and delivered every batch handed to it.
func (w *walSyncer) stop() {
	close(w.batches)
	<-w.done
	if w.f != nil {
		w.f.Close()
	}
}

// maxDefer bounds how long a committed batch that no caller waits for stays unsynced.
const maxDefer = 10 * time.Millisecond

// loop answers the batches in order. A batch that a caller waits for (a write not answered
// early, its outcome a success or a refusal) is answered after an fsync covering it and every
// batch before. A batch of early-answered and staged writes only, nobody waits for: its fsync
// waits for the next waited batch, which covers it, or for maxDefer, whichever comes first.
// What early and staged writes promise — durable no later than a later write that waits —
// holds either way, and a create pays for two fsyncs instead of three.
func (w *walSyncer) loop() {
	defer close(w.done)
	var pending []syncedBatch
	deadline := time.NewTimer(time.Hour)
	deadline.Stop()
	armed, open := false, true
	for open || len(pending) > 0 {
		due := !open // closing: whatever is left is synced
		if open {
			select {
			case b, ok := <-w.batches:
				if ok {
					pending = append(pending, b)
				} else {
					open, due = false, true
				}
			case <-deadline.C:
				armed, due = false, true
			}
		}
	more:
		for open {
			select {
			case b, ok := <-w.batches:
				if !ok {
					open, due = false, true
					break more
				}
				pending = append(pending, b)
			default:
				break more
			}
		}
		if due || slices.ContainsFunc(pending, urgent) {
			w.answer(pending)
			pending = pending[:0]
			if armed {
				deadline.Stop()
				armed = false
			}
		} else if len(pending) > 0 && !armed {
			deadline.Reset(w.maxDefer)
			armed = true
		}
		if len(w.batches) == 0 {
			select {
			case w.ready <- struct{}{}:
			default: // not taken since the last time
			}
		}
	}
}

// urgent reports whether b must be answered now: a caller waits for one of its writes, or it
// did not commit (its failures are answered at once).
func urgent(b syncedBatch) bool {
	return !b.committed || slices.ContainsFunc(b.batch, func(r *writeReq) bool { return r.done != nil && !r.answered })
}

// answer fsyncs the log if one of pending committed, and delivers every outcome in order.
func (w *walSyncer) answer(pending []syncedBatch) {
	err := w.lost
	if err == nil && slices.ContainsFunc(pending, func(b syncedBatch) bool { return b.committed }) {
		if err = w.sync(); err != nil {
			w.lost = err
			w.c.breakDown(fmt.Errorf("fsync of the write-ahead log of %s: %w", w.path, err))
		}
	}
	for _, p := range pending {
		if err != nil && p.committed {
			for i := range p.errs {
				p.errs[i] = errors.Join(p.errs[i], fmt.Errorf("the commit may not be durable: %w", err))
			}
		}
		deliver(p.batch, p.errs)
	}
}

// syncWAL fsyncs the WAL, opening it on first use, and again whenever the file at its path is
// no longer the one open (SQLite recreated it). The path is resolved through symbolic links,
// as SQLite resolves the database's. A commit in WAL mode always leaves a WAL, so a missing
// one is an error, not a reason to skip the fsync. SQLite fsyncs the WAL's directory entry
// when it creates the file.
func (w *walSyncer) syncWAL() error {
	if w.wal == "" {
		path, err := walPath(w.path)
		if err != nil {
			return err
		}
		w.wal = path
	}
	path := w.wal
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if w.f != nil {
		if open, err := w.f.Stat(); err != nil || !os.SameFile(open, fi) {
			w.f.Close()
			w.f = nil
		}
	}
	if w.f == nil {
		if w.f, err = os.Open(path); err != nil {
			return err
		}
	}
	return datasync(w.f)
}

// walPath is the WAL of the database at db: beside the file db resolves to.
func walPath(db string) (string, error) {
	real, err := filepath.EvalSymlinks(db)
	if err != nil {
		return "", err
	}
	return real + "-wal", nil
}
