package osd_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kilnstorage/kiln/sdk"
	"github.com/kilnstorage/kiln/sdk/osd"
)

// startBlocked starts CreateVolume(vol-1) with the driver's Create gated, waits until the
// driver is inside Create and returns the call's cancel function and result.
func startBlocked(t *testing.T, a *osd.Adapter, vd *memDriver) (*gate, context.CancelFunc, <-chan error) {
	t.Helper()
	g := vd.gate("Create")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := a.CreateVolume(ctx, create("vol-1", 1))
		done <- err
	}()
	<-g.entered
	return g, cancel, done
}

func TestCancelReturnsWhileDriverRuns(t *testing.T) {
	a, vd := newAdapter(true, osd.Options{})
	g, cancel, done := startBlocked(t, a, vd)
	cancel()
	// The driver's Create is still blocked on the gate, so this returning proves the adapter
	// does not wait for it.
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled create: %v, want context.Canceled", err)
	}

	// A retry cannot overlap the abandoned call: it waits for the ID, bounded by its context.
	short, stop := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer stop()
	_, err := a.CreateVolume(short, create("vol-1", 1))
	wantCode(t, err, sdk.Busy)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("busy error does not wrap the deadline: %v", err)
	}
	if n := vd.count("Create"); n != 1 {
		t.Fatalf("vd.Create entered %d times while the first call ran", n)
	}

	// Once the driver returns, a retry takes the idempotent path.
	retry := make(chan error, 1)
	go func() {
		_, err := a.CreateVolume(t.Context(), create("vol-1", 1))
		retry <- err
	}()
	close(g.release)
	if err := <-retry; err != nil {
		t.Fatalf("retry after the driver returned: %v", err)
	}
	if n := vd.count("Create"); n != 1 {
		t.Errorf("vd.Create called %d times, want 1", n)
	}
}

func TestOtherIDsAreNotBlocked(t *testing.T) {
	a, vd := newAdapter(true, osd.Options{})
	g, cancel, done := startBlocked(t, a, vd)
	defer cancel()
	if _, err := a.GetVolume(t.Context(), sdk.VolumeRef{ID: "vol-1"}); sdk.CodeOf(err) != sdk.NotFound {
		t.Errorf("GetVolume during the create: %v, want NotFound", err)
	}
	if err := a.DeleteVolume(t.Context(), sdk.VolumeRef{ID: "vol-2"}); err != nil {
		t.Errorf("DeleteVolume(vol-2) during the create: %v", err)
	}
	close(g.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestCloseWaitsForAbandonedCalls(t *testing.T) {
	a, vd := newAdapter(true, osd.Options{})
	g, cancel, done := startBlocked(t, a, vd)
	cancel()
	<-done

	expired, stop := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer stop()
	if err := a.Close(expired); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close with a call in flight: %v, want DeadlineExceeded", err)
	}
	if n := vd.shutdowns(); n != 0 {
		t.Fatalf("vd.Shutdown called while a call was still running")
	}
	close(g.release)
	if err := a.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := vd.shutdowns(); n != 1 {
		t.Errorf("vd.Shutdown called %d times, want 1", n)
	}
}
