package main

import (
	"context"
	"sync"

	"github.com/kilnstorage/kiln/sdk"
)

// vgLocks bounds how many metadata-changing commands the driver runs at once per volume group;
// the others wait here. lvm2 serializes the commits on its VG file lock anyway, but only after
// each process has started and scanned the disks, so a few processes in flight overlap their
// start-up while many only compete for the CPUs. A wait here costs no process and gives up as
// soon as the call's context ends. Reports (lvs, vgs) take lvm2's shared lock and do not wait.
// docs/lvm-driver.md has the measurements behind the default width.
type vgLocks struct {
	width int // commands in flight per VG; 0 = no bound
	mu    sync.Mutex
	vgs   map[string]chan struct{}
}

func newVGLocks(width int) *vgLocks {
	return &vgLocks{width: width, vgs: make(map[string]chan struct{})}
}

// lock waits for a slot of vg or for ctx to end.
func (l *vgLocks) lock(ctx context.Context, vg string) (unlock func(), err error) {
	if l.width <= 0 {
		return func() {}, nil
	}
	l.mu.Lock()
	ch, ok := l.vgs[vg]
	if !ok {
		ch = make(chan struct{}, l.width)
		l.vgs[vg] = ch
	}
	l.mu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, &sdk.Error{Code: sdk.Busy, Reason: "VG_QUEUE",
			Message: "gave up waiting for the driver's other commands on volume group " + vg, Err: ctx.Err()}
	}
}
