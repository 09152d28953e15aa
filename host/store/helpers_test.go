package store_test

import (
	"testing"

	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/volume"
	"github.com/kilnstorage/kiln/sdk"
)

const gib = store.GiB

// addVolume creates a volume of size GiB in project, with no reservation.
func addVolume(t testing.TB, s *store.Store, project string, sizeGiB int64) store.Volume {
	t.Helper()
	v, err := s.CreateVolume(t.Context(), store.Volume{ProjectID: project, UserID: "u", SizeBytes: sizeGiB * gib}, "")
	if err != nil {
		t.Fatalf("CreateVolume: %v", err)
	}
	return v
}

// setStatus forces a volume's status: with os-reset_status, or with the transitions that reach
// the statuses reset refuses.
func setStatus(t testing.TB, s *store.Store, id string, st volume.Status) {
	t.Helper()
	move := func(tr volume.Transition) {
		t.Helper()
		if _, err := s.TransitionVolume(t.Context(), store.AllProjects(), id, tr, store.VolumeChange{}); err != nil {
			t.Fatalf("%s %s: %v", tr.Name(), id, err)
		}
	}
	v, err := s.Volume(t.Context(), store.AllProjects(), id)
	if err != nil {
		t.Fatal(err)
	}
	if v.Status == st {
		return
	}
	if v.Status == volume.StatusCreating { // a create's status, which no reset may leave
		move(volume.CreateFailed)
	}
	reset := func(to volume.Status) {
		t.Helper()
		tr, err := volume.ResetStatus(volume.KindVolume, to)
		if err != nil {
			t.Fatalf("setStatus: %v", err)
		}
		move(tr)
	}
	switch st {
	case volume.StatusCreating:
		t.Fatalf("setStatus: nothing leads back to creating")
	case volume.StatusDeleting:
		move(volume.ForceDelete)
	case volume.StatusErrorDeleting:
		move(volume.ForceDelete)
		move(volume.DeleteFailed)
	case volume.StatusExtending: // an extend's status, which no reset may set
		reset(volume.StatusAvailable)
		move(volume.ExtendBegin)
	default:
		reset(st)
	}
}

// place puts the volume on backend/pool as a scheduler would (no capacity check).
func place(t testing.TB, s *store.Store, id, backend, pool string) {
	t.Helper()
	_, err := s.TransitionVolume(t.Context(), store.AllProjects(), id, volume.CreateDone,
		store.VolumeChange{Backend: new(backend), Pool: new(pool)})
	if err != nil {
		t.Fatalf("create-done: %v", err)
	}
}

// report stores one pool of total bytes for backend, with sequence number seq.
func report(t testing.TB, s *store.Store, backend, pool string, total int64, seq uint64) {
	t.Helper()
	_, err := s.ReportCapacity(t.Context(), store.BackendReport{Backend: backend, AvailabilityZone: "nova",
		Capacity: sdk.Capacity{BootID: "boot-1", Seq: seq, Pools: []sdk.Pool{{Name: pool, TotalBytes: total,
			FreeBytes: total, Thick: true}}}})
	if err != nil {
		t.Fatalf("ReportCapacity: %v", err)
	}
}
