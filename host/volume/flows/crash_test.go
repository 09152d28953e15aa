package flows

import (
	"context"
	"fmt"
	"testing"

	"github.com/kilnstorage/kiln/host/flow"
	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/store/storetest"
	"github.com/kilnstorage/kiln/host/volume"
	"github.com/kilnstorage/kiln/sdk"
	"github.com/kilnstorage/kiln/sdk/fake"
)

// crash is what crashJournal panics with: the process "dies" there, running no revert.
type crash struct{}

// crashJournal journals (never staging) and "kills the process" at its n-th call of Save or
// Finish: before the write when before is set (the last task's effects are done, its end is not
// recorded), after it otherwise (the boundary is recorded, the next task has not run).
type crashJournal struct {
	flow.Journal
	n, calls int
	before   bool
}

func (j *crashJournal) tick(write func() error) error {
	j.calls++
	if j.calls == j.n && j.before {
		panic(crash{})
	}
	err := write()
	if j.calls == j.n {
		panic(crash{})
	}
	return err
}

func (j *crashJournal) Save(ctx context.Context, e flow.Entry) error {
	return j.tick(func() error { return j.Journal.Save(ctx, e) })
}

func (j *crashJournal) Finish(ctx context.Context, id string) error {
	return j.tick(func() error { return j.Journal.Finish(ctx, id) })
}

// crashed runs op on svc with a journal that dies at call n, and reports whether it died.
func crashed(svc *Service, j *crashJournal, op func() error) (died bool) {
	svc.engine.Journal = j
	defer func() {
		svc.engine.Journal = j.Journal
		if p := recover(); p != nil {
			if _, ok := p.(crash); !ok {
				panic(p)
			}
			died = true
		}
	}()
	_ = op()
	return false
}

// everyBoundary runs body once per journal write of the operation: it crashes there (before
// and after the write), recovers in a new Service on the same store and backends, and calls
// check. It stops once the operation runs to its end without reaching the crash.
func everyBoundary(t *testing.T, backends func(st *store.Store) BackendSet,
	op func(t *testing.T, svc *Service, st *store.Store) (run func() error, check func(t *testing.T)),
) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		st := db.Open(t)
		bs := backends(st)
		for n := 1; ; n++ {
			more := false
			for _, before := range []bool{true, false} {
				t.Run(fmt.Sprintf("call%d-before=%v", n, before), func(t *testing.T) {
					svc := newService(t, st, bs, nil)
					run, check := op(t, svc, st)
					died := crashed(svc, &crashJournal{Journal: st.Journal(""), n: n, before: before}, run)
					more = more || died
					svc.Close()
					if _, err := newService(t, st, bs, nil).Recover(t.Context()); err != nil {
						t.Fatalf("recover: %v", err)
					}
					check(t)
					checkBooks(t, st)
				})
			}
			if !more || t.Failed() {
				return
			}
		}
	})
}

// TestExtendVolume_crashAtEveryBoundary: wherever the process dies, recovery ends the volume
// available, at the old size or at the new one, with the row, the usage, the claims and the
// driver's object agreeing; with a failing driver, at the old size (available or
// error_extending).
func TestExtendVolume_crashAtEveryBoundary(t *testing.T) {
	for _, failing := range []bool{false, true} {
		t.Run(fmt.Sprintf("failing=%v", failing), func(t *testing.T) {
			var b *testBackend
			backends := func(st *store.Store) BackendSet {
				var fs []fake.Failure
				if failing {
					fs = append(fs, fake.Failure{Op: fake.OpExtendVolume, Code: "Internal", Mode: "always"})
				}
				b = fakeBackend(t, st, "fake", "p", "100GiB", fs...)
				return BackendSet{"fake": b}
			}
			everyBoundary(t, backends, func(t *testing.T, svc *Service, st *store.Store) (func() error, func(*testing.T)) {
				v := available(t, svc, st)
				run := func() error { return svc.ExtendVolume(t.Context(), store.ProjectScope("p"), "p", v.ID, 2) }
				return run, func(t *testing.T) {
					got, _ := st.Volume(t.Context(), store.AllProjects(), v.ID)
					size := store.SizeGiB(got.SizeBytes)
					ok := got.Status == volume.StatusAvailable && (size == 1 || size == 2 && !failing) ||
						got.Status == volume.StatusErrorExtending && size == 1 && failing
					if !ok {
						t.Errorf("after recovery: %s at %d GiB", got.Status, size)
					}
					checkSize(t, st, b, v.ID, size)
					// The volume goes, so that the project's usage is this volume's alone next time.
					if err := svc.DeleteVolume(t.Context(), store.AllProjects(), "p", v.ID, DeleteOptions{Force: true}); err != nil {
						t.Fatal(err)
					}
				}
			})
		})
	}
}

// snapshotOf creates an available snapshot of the volume, on the driver and in the store.
func snapshotOf(t *testing.T, st *store.Store, b *testBackend, v store.Volume) store.Snapshot {
	t.Helper()
	sn, err := st.CreateSnapshot(t.Context(), store.ProjectScope(v.ProjectID),
		store.Snapshot{VolumeID: v.ID, UserID: "u", Name: "s"}, volume.SnapshotSource, "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.c.CreateSnapshot(t.Context(), sdk.CreateSnapshotRequest{ID: sn.ID,
		Volume: sdk.VolumeRef{ID: v.ID, Pool: v.Pool, ProviderData: v.ProviderData}})
	if err != nil {
		t.Fatal(err)
	}
	sn, err = st.TransitionSnapshot(t.Context(), store.AllProjects(), sn.ID, volume.SnapshotCreateDone,
		store.SnapshotChange{ProviderData: got.ProviderData})
	if err != nil {
		t.Fatal(err)
	}
	return sn
}

// TestDeleteVolume_cascadeCrashAtEveryBoundary: a cascade delete of a volume with two
// snapshots, killed at every journal write and recovered, deletes everything exactly once:
// the usage is back to zero (never below), and nothing is left on the driver.
func TestDeleteVolume_cascadeCrashAtEveryBoundary(t *testing.T) {
	var b *testBackend
	backends := func(st *store.Store) BackendSet {
		b = fakeBackend(t, st, "fake", "p", "100GiB")
		return BackendSet{"fake": b}
	}
	everyBoundary(t, backends, func(t *testing.T, svc *Service, st *store.Store) (func() error, func(*testing.T)) {
		v := available(t, svc, st)
		s1, s2 := snapshotOf(t, st, b, v), snapshotOf(t, st, b, v)
		run := func() error {
			return svc.DeleteVolume(t.Context(), store.ProjectScope("p"), "p", v.ID, DeleteOptions{Cascade: true})
		}
		return run, func(t *testing.T) {
			if got, err := st.Volume(t.Context(), store.AllProjects(), v.ID); err == nil {
				// Only a crash before the flow's first record leaves anything: then nothing moved.
				s1, _ := st.Snapshot(t.Context(), store.AllProjects(), s1.ID)
				s2, _ := st.Snapshot(t.Context(), store.AllProjects(), s2.ID)
				if got.Status != volume.StatusAvailable || s1.Status != volume.StatusAvailable || s2.Status != volume.StatusAvailable {
					t.Errorf("after recovery: volume %s, snapshots %s and %s; want all deleted or all available",
						got.Status, s1.Status, s2.Status)
				}
				if err := run(); err != nil {
					t.Fatal(err)
				}
			}
			for _, sn := range []store.Snapshot{s1, s2} {
				if _, err := st.Snapshot(t.Context(), store.AllProjects(), sn.ID); err == nil {
					t.Errorf("snapshot %s survived", sn.ID)
				}
			}
			u, _ := st.QuotaUsage(t.Context(), "p")
			for _, r := range []string{store.Volumes, store.Gigabytes, store.Snapshots} {
				if u[r].InUse != 0 {
					t.Errorf("%s in use: %d, want 0", r, u[r].InUse)
				}
			}
			page, err := b.c.ListVolumes(t.Context(), sdk.ListRequest{})
			if err != nil || len(page.Volumes) != 0 {
				t.Errorf("the driver still has %d volumes (%v)", len(page.Volumes), err)
			}
		}
	})
}
