package flows

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

func TestQueue_closed(t *testing.T) {
	q := NewQueue(2, 4)
	var ran atomic.Int64
	for range 4 {
		if err := q.Submit(t.Context(), func(context.Context) { ran.Add(1) }); err != nil {
			t.Fatal(err)
		}
	}
	q.Close()
	if ran.Load() != 4 {
		t.Errorf("%d of 4 queued jobs ran before Close returned", ran.Load())
	}
	for _, err := range []error{q.TrySubmit(func(context.Context) {}), q.Submit(t.Context(), func(context.Context) {})} {
		if !errors.Is(err, ErrQueueClosed) {
			t.Errorf("submit after Close = %v, want ErrQueueClosed", err)
		}
	}
}
