package osd

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/kilnstorage/kiln/sdk"
)

func volumeKey(id string) string   { return "volume/" + id }
func snapshotKey(id string) string { return "snapshot/" + id }

// locks serializes calls per ID. Unlike the SDK's own locks, a key stays held until the
// openstorage call under it returns, even when the Kiln call gave up on its context.
type locks struct {
	mu   sync.Mutex
	held map[string]chan struct{} // closed when released
}

// lock takes every key, in sorted order so that two calls never deadlock. It returns a Busy
// error when ctx ends before a key is free.
func (l *locks) lock(ctx context.Context, keys ...string) (unlock func(), err error) {
	keys = slices.Compact(slices.Sorted(slices.Values(keys)))
	for i, k := range keys {
		if err := l.lockOne(ctx, k); err != nil {
			l.unlock(keys[:i])
			return nil, err
		}
	}
	return func() { l.unlock(keys) }, nil
}

func (l *locks) lockOne(ctx context.Context, key string) error {
	for {
		l.mu.Lock()
		ch, busy := l.held[key]
		if !busy {
			if l.held == nil {
				l.held = make(map[string]chan struct{})
			}
			l.held[key] = make(chan struct{})
			l.mu.Unlock()
			return nil
		}
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			e := sdk.ErrorBusy(key)
			e.Err = ctx.Err()
			return e
		}
	}
}

func (l *locks) unlock(keys []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		close(l.held[k])
		delete(l.held, k)
	}
}

type result[T any] struct {
	val T
	err error
}

// call runs fn on its own goroutine holding the locks of keys, and returns its result, or
// ctx.Err() as soon as ctx ends. The locks are released only when fn returns; fn gets ctx so
// that it can stop before its next mutating step.
func call[T any](ctx context.Context, a *Adapter, op string, keys []string, fn func(context.Context) (T, error)) (T, error) {
	unlock, err := a.locks.lock(ctx, keys...)
	if err != nil {
		var zero T
		return zero, err
	}
	a.inflight.Add(1)
	return async(ctx, op, func(ctx context.Context) (T, error) {
		defer a.inflight.Done()
		defer unlock()
		return fn(ctx)
	})
}

// async runs fn on its own goroutine and returns its result, or ctx.Err() as soon as ctx ends
// while fn keeps running.
func async[T any](ctx context.Context, op string, fn func(context.Context) (T, error)) (T, error) {
	done := make(chan result[T], 1)
	go func() { done <- guard(ctx, op, fn) }()
	select {
	case r := <-done:
		return r.val, r.err
	case <-ctx.Done():
		select {
		case r := <-done:
			return r.val, r.err
		default:
			var zero T
			return zero, ctx.Err()
		}
	}
}

// guard runs fn, turning a panic into an Internal error: it runs on a goroutine of its own,
// where the SDK's recovery cannot reach.
func guard[T any](ctx context.Context, op string, fn func(context.Context) (T, error)) (r result[T]) {
	defer func() {
		if p := recover(); p != nil {
			r.err = &sdk.Error{Code: sdk.Internal, Reason: "DRIVER_PANIC",
				Message: fmt.Sprintf("openstorage driver panicked in %s: %v", op, p)}
		}
	}()
	r.val, r.err = fn(ctx)
	return r
}
