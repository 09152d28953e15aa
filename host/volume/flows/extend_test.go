package flows

import (
	"errors"
	"testing"

	"github.com/kilnstorage/kiln/host/flow"
	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/store/storetest"
	"github.com/kilnstorage/kiln/host/volume"
	"github.com/kilnstorage/kiln/sdk"
	"github.com/kilnstorage/kiln/sdk/fake"
)

// available creates a 1 GiB volume in project p and waits until it is available.
func available(t *testing.T, svc *Service, st *store.Store) store.Volume {
	t.Helper()
	v, err := svc.CreateVolume(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if v = settle(t, st, v.ID); v.Status != volume.StatusAvailable {
		t.Fatalf("volume %s is %s, want available", v.ID, v.Status)
	}
	return v
}

// checkSize fails unless the row, the gigabytes usage, the volume's claims and the driver's
// object all say gib GiB (the quota usage is checked for a project holding only this volume).
func checkSize(t *testing.T, st *store.Store, b *testBackend, id string, gib int64) {
	t.Helper()
	v, err := st.Volume(t.Context(), store.AllProjects(), id)
	if err != nil {
		t.Fatal(err)
	}
	if v.SizeBytes != gib*store.GiB {
		t.Errorf("row size %d, want %d GiB", v.SizeBytes, gib)
	}
	u, _ := st.QuotaUsage(t.Context(), "p")
	if u[store.Gigabytes].InUse != gib || u[store.Gigabytes].Reserved != 0 {
		t.Errorf("gigabytes usage %+v, want %d in use, none reserved", u[store.Gigabytes], gib)
	}
	claims, _ := st.Claims(t.Context(), id)
	var claimed int64
	for _, c := range claims {
		claimed += c.Bytes
	}
	if claimed != gib*store.GiB {
		t.Errorf("claims hold %d bytes, want %d GiB", claimed, gib)
	}
	got, err := b.c.GetVolume(t.Context(), sdk.VolumeRef{ID: id, Pool: v.Pool})
	if err != nil || got.SizeBytes != gib*store.GiB {
		t.Errorf("driver's volume: %d bytes, %v; want %d GiB", got.SizeBytes, err, gib)
	}
}

func TestExtendVolume(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		st := db.Open(t)
		b := fakeBackend(t, st, "fake", "p", "10GiB")
		svc := newService(t, st, BackendSet{"fake": b}, nil)
		v := available(t, svc, st)
		if err := svc.ExtendVolume(t.Context(), store.ProjectScope("p"), "p", v.ID, 3); err != nil {
			t.Fatal(err)
		}
		got, _ := st.Volume(t.Context(), store.AllProjects(), v.ID)
		if got.Status != volume.StatusAvailable {
			t.Errorf("after extend: %s, want available", got.Status)
		}
		checkSize(t, st, b, v.ID, 3)
		checkBooks(t, st)
		kinds := eventKinds(t, st, v.ID)
		if n := len(kinds); n < 2 || kinds[n-2] != EventExtendStart || kinds[n-1] != EventExtendEnd {
			t.Errorf("events %v, want the extend's start and end last", kinds)
		}
		for _, size := range []int64{3, 2} {
			err := svc.ExtendVolume(t.Context(), store.ProjectScope("p"), "p", v.ID, size)
			if !errors.Is(err, ErrExtendSize) || !errors.Is(err, ErrInvalidRequest) {
				t.Errorf("extend to %d GiB: %v, want ErrExtendSize", size, err)
			}
		}
		if err := svc.ExtendVolume(t.Context(), store.ProjectScope("q"), "q", v.ID, 4); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another project extends it: %v, want not found", err)
		}
		checkSize(t, st, b, v.ID, 3)
	})
}

func TestExtendVolume_refused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		st := db.Open(t)
		b := fakeBackend(t, st, "fake", "p", "10GiB")
		svc := newService(t, st, BackendSet{"fake": b}, nil)
		v := available(t, svc, st)
		// Over quota: 413 material, nothing held.
		if err := st.SetQuotaLimits(t.Context(), "p", store.Limits{store.Gigabytes: 2}); err != nil {
			t.Fatal(err)
		}
		var over *store.OverQuotaError
		if err := svc.ExtendVolume(t.Context(), store.ProjectScope("p"), "p", v.ID, 3); !errors.As(err, &over) {
			t.Errorf("extend over quota: %v, want an OverQuotaError", err)
		}
		if err := st.SetQuotaLimits(t.Context(), "p", store.Limits{store.Gigabytes: 1000, store.PerVolumeGigabytes: 2}); err != nil {
			t.Fatal(err)
		}
		if err := svc.ExtendVolume(t.Context(), store.ProjectScope("p"), "p", v.ID, 3); !errors.As(err, &over) || over.Resource != store.PerVolumeGigabytes {
			t.Errorf("extend over per_volume_gigabytes: %v", err)
		}
		// Not available: refused with the allowed statuses.
		reset, _ := volume.ResetStatus(volume.KindVolume, volume.StatusError)
		if _, err := st.TransitionVolume(t.Context(), store.AllProjects(), v.ID, reset, store.VolumeChange{}); err != nil {
			t.Fatal(err)
		}
		var te *volume.TransitionError
		if err := svc.ExtendVolume(t.Context(), store.ProjectScope("p"), "p", v.ID, 2); !errors.As(err, &te) ||
			te.Current != volume.StatusError || te.Transition != volume.ExtendBegin.Name() {
			t.Errorf("extend of an error volume: %v, want a transition error", err)
		}
		checkSize(t, st, b, v.ID, 1)
		checkBooks(t, st)
	})
}

func TestExtendVolume_noValidBackend(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		st := db.Open(t)
		b := fakeBackend(t, st, "fake", "p", "3GiB")
		svc := newService(t, st, BackendSet{"fake": b}, nil)
		v := available(t, svc, st)
		err := svc.ExtendVolume(t.Context(), store.ProjectScope("p"), "p", v.ID, 8)
		var te *flow.TaskError
		if !errors.As(err, &te) || te.Task != "ExtendCapacityTask" {
			t.Fatalf("extend beyond the pool: %v, want a failed ExtendCapacityTask", err)
		}
		got, _ := st.Volume(t.Context(), store.AllProjects(), v.ID)
		if got.Status != volume.StatusAvailable || got.Fault == "" {
			t.Errorf("after no valid backend: %s (%q), want available with a fault", got.Status, got.Fault)
		}
		checkSize(t, st, b, v.ID, 1)
		checkBooks(t, st)
	})
}

func TestExtendVolume_driverFailure(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		st := db.Open(t)
		b := fakeBackend(t, st, "fake", "p", "10GiB", fake.Failure{Op: fake.OpExtendVolume, Code: "Internal", Mode: "always"})
		svc := newService(t, st, BackendSet{"fake": b}, nil)
		v := available(t, svc, st)
		err := svc.ExtendVolume(t.Context(), store.ProjectScope("p"), "p", v.ID, 2)
		if sdk.CodeOf(err) != sdk.Internal {
			t.Fatalf("extend with a failing driver: %v, want Internal", err)
		}
		got, _ := st.Volume(t.Context(), store.AllProjects(), v.ID)
		if got.Status != volume.StatusErrorExtending || got.Fault == "" {
			t.Errorf("after a driver failure: %s (%q), want error_extending with a fault", got.Status, got.Fault)
		}
		checkSize(t, st, b, v.ID, 1)
		checkBooks(t, st)
		// error_extending may be deleted by its owner (Cinder), giving everything back.
		if err := svc.DeleteVolume(t.Context(), store.ProjectScope("p"), "p", v.ID, DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		if u, _ := st.QuotaUsage(t.Context(), "p"); u[store.Gigabytes].InUse != 0 || u[store.Volumes].InUse != 0 {
			t.Errorf("usage after deleting it: %+v", u)
		}
		checkBooks(t, st)
	})
}
