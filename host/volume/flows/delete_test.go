package flows

import (
	"encoding/json"
	"errors"
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
