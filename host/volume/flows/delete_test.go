package flows

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/kilnstorage/kiln/host/flow"
	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/store/storetest"
	"github.com/kilnstorage/kiln/host/volume"
	"github.com/kilnstorage/kiln/sdk"
	"github.com/kilnstorage/kiln/sdk/fake"
)

func TestDeleteVolume(t *testing.T) {
	st := storetest.Open(t)
	b := fakeBackend(t, st, "fake", "p", "10GiB")
	svc := newService(t, st, BackendSet{"fake": b}, nil)
	v, err := svc.CreateVolume(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	v = settle(t, st, v.ID)
	if err := svc.DeleteVolume(t.Context(), store.ProjectScope("p"), "p", v.ID, DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Volume(t.Context(), store.AllProjects(), v.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the deleted volume is still there: %v", err)
	}
	if _, err := b.c.GetVolume(t.Context(), sdk.VolumeRef{ID: v.ID, Pool: "p"}); sdk.CodeOf(err) != sdk.NotFound {
		t.Errorf("the driver still has the volume: %v", err)
	}
	checkBooks(t, st)
	err = svc.DeleteVolume(t.Context(), store.ProjectScope("p"), "p", v.ID, DeleteOptions{})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting it again: %v, want not found", err)
	}
}

func TestDeleteVolume_refusedAndFailed(t *testing.T) {
	st := storetest.Open(t)
	b := fakeBackend(t, st, "fake", "p", "10GiB", fake.Failure{Op: fake.OpDeleteVolume, Code: "Unavailable", Mode: "once"})
	svc := newService(t, st, BackendSet{"fake": b}, nil)
	v, err := svc.CreateVolume(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	v = settle(t, st, v.ID)
	if err := svc.DeleteVolume(t.Context(), store.ProjectScope("other"), "other", v.ID, DeleteOptions{}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another project deletes it: %v", err)
	}
	// The first driver delete fails: error_deleting, quota still held.
	if err := svc.DeleteVolume(t.Context(), store.ProjectScope("p"), "p", v.ID, DeleteOptions{}); err == nil {
		t.Fatal("a failing driver delete succeeded")
	}
	got, _ := st.Volume(t.Context(), store.AllProjects(), v.ID)
	if got.Status != volume.StatusErrorDeleting || got.Fault == "" {
		t.Errorf("after a driver failure: %s (%q), want error_deleting with a fault", got.Status, got.Fault)
	}
	// error_deleting may not be deleted by a user (Cinder), and the refusal names the statuses.
	var te *volume.TransitionError
	if err := svc.DeleteVolume(t.Context(), store.ProjectScope("p"), "p", v.ID, DeleteOptions{}); !errors.As(err, &te) {
		t.Errorf("delete from error_deleting: %v, want a transition error", err)
	}
	checkBooks(t, st)
}

func TestDeleteVolume_inUseIsAvailableAgain(t *testing.T) {
	st := storetest.Open(t)
	b := fakeBackend(t, st, "fake", "p", "10GiB", fake.Failure{Op: fake.OpDeleteVolume, Code: "InUse", Mode: "always"})
	svc := newService(t, st, BackendSet{"fake": b}, nil)
	v, err := svc.CreateVolume(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	v = settle(t, st, v.ID)
	if err := svc.DeleteVolume(t.Context(), store.ProjectScope("p"), "p", v.ID, DeleteOptions{}); sdk.CodeOf(err) != sdk.InUse {
		t.Fatalf("delete of a busy volume: %v, want InUse", err)
	}
	got, _ := st.Volume(t.Context(), store.AllProjects(), v.ID)
	if got.Status != volume.StatusAvailable {
		t.Errorf("after InUse: %s, want available", got.Status)
	}
	checkBooks(t, st)
}

// TestDeleteVolume_recoveredAfterACrash: a delete flow journaled at its first task whose volume
// is already `deleting` (the process died right after the status change) is finished by
// recovery, never left `deleting`.
func TestDeleteVolume_recoveredAfterACrash(t *testing.T) {
	st := storetest.Open(t)
	b := fakeBackend(t, st, "fake", "p", "10GiB")
	svc := newService(t, st, BackendSet{"fake": b}, nil)
	v, err := svc.CreateVolume(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	v = settle(t, st, v.ID)
	if _, err := st.TransitionVolume(t.Context(), store.AllProjects(), v.ID, volume.DeleteBegin, store.VolumeChange{}); err != nil {
		t.Fatal(err)
	}
	state, _ := json.Marshal(deleteState{FlowID: "f-d", VolumeID: v.ID, ProjectID: "p"})
	if err := st.Journal("").Save(t.Context(), flow.Entry{ID: "f-d", Flow: "volume_delete", Task: 0,
		Phase: flow.Executing, Failed: -1, State: state}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Recover(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Volume(t.Context(), store.AllProjects(), v.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after recovery the volume is %v, want deleted", err)
	}
	if _, err := b.c.GetVolume(t.Context(), sdk.VolumeRef{ID: v.ID, Pool: "p"}); sdk.CodeOf(err) != sdk.NotFound {
		t.Errorf("the driver still has the volume: %v", err)
	}
	checkBooks(t, st)
}

// TestDeleteVolume_cascadeDriverFailure: a snapshot the driver fails to delete leaves it, the
// other snapshots not deleted and the volume in error_deleting (never deleting), the usage
// still counted; an admin's force deletes then clear everything, giving the usage back once.
func TestDeleteVolume_cascadeDriverFailure(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		st := db.Open(t)
		b := fakeBackend(t, st, "fake", "p", "10GiB", fake.Failure{Op: fake.OpDeleteSnapshot, Code: "Unavailable", Mode: "once"})
		svc := newService(t, st, BackendSet{"fake": b}, nil)
		v := available(t, svc, st)
		s1, s2 := snapshotOf(t, st, b, v), snapshotOf(t, st, b, v)
		if err := svc.DeleteVolume(t.Context(), store.ProjectScope("p"), "p", v.ID, DeleteOptions{Cascade: true}); sdk.CodeOf(err) != sdk.Unavailable {
			t.Fatalf("cascade with a failing snapshot delete: %v", err)
		}
		got, _ := st.Volume(t.Context(), store.AllProjects(), v.ID)
		if got.Status != volume.StatusErrorDeleting || !strings.Contains(got.Fault, s1.ID) {
			t.Errorf("volume: %s (%q), want error_deleting naming the snapshot", got.Status, got.Fault)
		}
		for _, sn := range []store.Snapshot{s1, s2} {
			if got, _ := st.Snapshot(t.Context(), store.AllProjects(), sn.ID); got.Status != volume.StatusErrorDeleting {
				t.Errorf("snapshot %s: %s, want error_deleting", sn.ID, got.Status)
			}
		}
		if u, _ := st.QuotaUsage(t.Context(), "p"); u[store.Snapshots].InUse != 2 || u[store.Volumes].InUse != 1 {
			t.Errorf("usage after the failure: %+v", u)
		}
		checkBooks(t, st)
		var te *volume.TransitionError
		if err := svc.DeleteVolume(t.Context(), store.AllProjects(), "p", v.ID, DeleteOptions{Force: true}); !errors.As(err, &te) {
			t.Errorf("force delete of a volume with snapshots: %v, want refused", err)
		}
		for _, sn := range []store.Snapshot{s1, s2} {
			if err := svc.ForceDeleteSnapshot(t.Context(), store.AllProjects(), "p", sn.ID); err != nil {
				t.Fatal(err)
			}
		}
		if err := svc.DeleteVolume(t.Context(), store.AllProjects(), "p", v.ID, DeleteOptions{Force: true}); err != nil {
			t.Fatal(err)
		}
		if u, _ := st.QuotaUsage(t.Context(), "p"); u[store.Snapshots].InUse != 0 || u[store.Volumes].InUse != 0 || u[store.Gigabytes].InUse != 0 {
			t.Errorf("usage after the force deletes: %+v", u)
		}
		checkBooks(t, st)
	})
}

// TestForceDeleteSnapshot_driverFailure: the snapshot ends error_deleting, still counted.
func TestForceDeleteSnapshot_driverFailure(t *testing.T) {
	st := storetest.Open(t)
	b := fakeBackend(t, st, "fake", "p", "10GiB", fake.Failure{Op: fake.OpDeleteSnapshot, Code: "Internal", Mode: "always"})
	svc := newService(t, st, BackendSet{"fake": b}, nil)
	v := available(t, svc, st)
	sn := snapshotOf(t, st, b, v)
	if err := svc.ForceDeleteSnapshot(t.Context(), store.AllProjects(), "p", sn.ID); sdk.CodeOf(err) != sdk.Internal {
		t.Fatalf("force delete with a failing driver: %v", err)
	}
	if got, _ := st.Snapshot(t.Context(), store.AllProjects(), sn.ID); got.Status != volume.StatusErrorDeleting || got.Fault == "" {
		t.Errorf("snapshot: %s (%q), want error_deleting with a fault", got.Status, got.Fault)
	}
	if err := svc.ForceDeleteSnapshot(t.Context(), store.ProjectScope("q"), "q", sn.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another project: %v", err)
	}
	checkBooks(t, st)
}

// TestDeleteVolume_forceFromAnyStatus: an admin's force delete runs the delete from a status a
// user may not delete from.
func TestDeleteVolume_forceFromAnyStatus(t *testing.T) {
	st := storetest.Open(t)
	b := fakeBackend(t, st, "fake", "p", "10GiB")
	svc := newService(t, st, BackendSet{"fake": b}, nil)
	for _, status := range []volume.Status{volume.StatusMaintenance, volume.StatusErrorDeleting, volume.StatusExtending} {
		v := available(t, svc, st)
		switch status {
		case volume.StatusErrorDeleting:
			_, _ = st.TransitionVolume(t.Context(), store.AllProjects(), v.ID, volume.ForceDelete, store.VolumeChange{})
			_, _ = st.TransitionVolume(t.Context(), store.AllProjects(), v.ID, volume.DeleteFailed, store.VolumeChange{})
		case volume.StatusExtending: // an extend's status, which no reset may set
			_, _ = st.TransitionVolume(t.Context(), store.AllProjects(), v.ID, volume.ExtendBegin, store.VolumeChange{})
		default:
			reset, _ := volume.ResetStatus(volume.KindVolume, status)
			_, _ = st.TransitionVolume(t.Context(), store.AllProjects(), v.ID, reset, store.VolumeChange{})
		}
		var te *volume.TransitionError
		if err := svc.DeleteVolume(t.Context(), store.ProjectScope("p"), "p", v.ID, DeleteOptions{}); !errors.As(err, &te) {
			t.Errorf("user delete from %s: %v, want refused", status, err)
		}
		if err := svc.DeleteVolume(t.Context(), store.AllProjects(), "p", v.ID, DeleteOptions{Force: true}); err != nil {
			t.Errorf("force delete from %s: %v", status, err)
		}
		if _, err := b.c.GetVolume(t.Context(), sdk.VolumeRef{ID: v.ID, Pool: "p"}); sdk.CodeOf(err) != sdk.NotFound {
			t.Errorf("the driver still has the volume forced from %s: %v", status, err)
		}
	}
	checkBooks(t, st)
}
