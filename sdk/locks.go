package sdk

import (
	"context"
	"slices"
	"sync"
)

// keyLocks serializes calls per ID. A caller waits for the IDs it needs, bounded by its ctx.
type keyLocks struct {
	mu   sync.Mutex
	held map[string]chan struct{} // closed when released
	fail bool                     // answer Busy at once instead of waiting
}

func newKeyLocks(busyImmediately bool) *keyLocks {
	return &keyLocks{held: make(map[string]chan struct{}), fail: busyImmediately}
}

// lock takes every key, in sorted order so that two calls never deadlock. It returns a Busy
// error when ctx ends first (or at once when the locks answer Busy immediately).
func (l *keyLocks) lock(ctx context.Context, keys ...string) (unlock func(), err error) {
	keys = slices.Compact(slices.Sorted(slices.Values(keys)))
	for i, k := range keys {
		if err := l.lockOne(ctx, k); err != nil {
			l.unlock(keys[:i])
			return nil, err
		}
	}
	return func() { l.unlock(keys) }, nil
}

func (l *keyLocks) lockOne(ctx context.Context, key string) error {
	for {
		l.mu.Lock()
		ch, busy := l.held[key]
		if !busy {
			l.held[key] = make(chan struct{})
			l.mu.Unlock()
			return nil
		}
		l.mu.Unlock()
		if l.fail {
			return ErrorBusy(key)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			e := ErrorBusy(key)
			e.Err = ctx.Err()
			return e
		}
	}
}

func (l *keyLocks) unlock(keys []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		close(l.held[k])
		delete(l.held, k)
	}
}
