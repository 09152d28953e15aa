package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// walSyncer makes SQLite's commits durable off the writer's path. With synchronous=FULL,
// SQLite fsyncs the write-ahead log inside every COMMIT, and the single writer can do nothing
// else meanwhile: on this kind of machine the fsync was half the writer's time. Instead the
// writer commits with synchronous=NORMAL — the WAL frames are written, not synced — and goes
// on to the next batch, while this goroutine fsyncs the WAL file once for every batch
// committed since its last fsync, and only then tells those batches' writers their outcome.
// An fsync of the WAL covers every frame written before it began, so no write is reported
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
	c       *committer
	path    string
	f       *os.File
	batches chan syncedBatch
	done    chan struct{}
}

// syncedBatch is a committed batch waiting for the fsync that makes it durable.
type syncedBatch struct {
	batch []*writeReq
	errs  []error
}

func newWALSyncer(c *committer, path string) *walSyncer {
	w := &walSyncer{c: c, path: path, batches: make(chan syncedBatch, maxBatch), done: make(chan struct{})}
	go w.loop()
	return w
}

// after hands a committed batch to the syncer.
func (w *walSyncer) after(batch []*writeReq, errs []error) {
	w.batches <- syncedBatch{batch, errs}
}

// stop ends the syncer once it has synced and delivered every batch handed to it.
func (w *walSyncer) stop() {
	close(w.batches)
	<-w.done
	if w.f != nil {
		w.f.Close()
	}
}

func (w *walSyncer) loop() {
	defer close(w.done)
	var pending []syncedBatch
	for b := range w.batches {
		pending = append(pending[:0], b)
	more:
		for {
			select {
			case b, ok := <-w.batches:
				if !ok {
					break more
				}
				pending = append(pending, b)
			default:
				break more
			}
		}
		err := w.sync()
		if err != nil {
			w.c.breakDown(fmt.Errorf("fsync of %s: %w", w.path, err))
		}
		for _, p := range pending {
			if err != nil {
				for i := range p.errs {
					p.errs[i] = errors.Join(p.errs[i], fmt.Errorf("the commit may not be durable: %w", err))
				}
			}
			deliver(p.batch, p.errs)
		}
	}
}

// sync fsyncs the WAL, opening it on first use. The database's directory entry for the WAL
// was synced by SQLite when it created the file.
func (w *walSyncer) sync() error {
	if w.f == nil {
		f, err := os.Open(w.path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil // nothing in a log yet: the commits went to the database itself
		}
		if err != nil {
			return err
		}
		w.f = f
	}
	return w.f.Sync()
}
