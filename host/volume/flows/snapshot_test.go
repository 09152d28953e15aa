package flows

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kilnstorage/kiln/host/flow"
	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/store/storetest"
	"github.com/kilnstorage/kiln/host/volume"
	"github.com/kilnstorage/kiln/sdk/fake"
)

// holds reports whether the fake backend's persisted state mentions id: whether the driver
// keeps an object (volume or snapshot) of that ID.
func (b *testBackend) holds(t *testing.T, id string) bool {
	t.Helper()
	vols, snaps, err := fake.Contents(b.dir, b.name)
	if err != nil {
		t.Fatal(err)
	}
	return slices.Contains(vols, id) || slices.Contains(snaps, id)
}

// settleSnapshot waits until the snapshot has left `creating` and every flow has ended.
func settleSnapshot(t *testing.T, s *store.Store, id string) store.Snapshot {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		snap, err := s.Snapshot(t.Context(), store.AllProjects(), id)
		left, jerr := s.Journal("").Unfinished(t.Context())
		if err == nil && jerr == nil && snap.Status != volume.StatusCreating && len(left) == 0 {
			return snap
		}
		if time.Now().After(deadline) {
			t.Fatalf("snapshot %s did not settle: %+v, %v; journal %d entries", id, snap, err, len(left))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// availableVolume creates a volume through the flows and waits for it.
func availableVolume(t *testing.T, svc *Service, st *store.Store) store.Volume {
	t.Helper()
	v, err := svc.CreateVolume(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if v = settle(t, st, v.ID); v.Status != volume.StatusAvailable {
		t.Fatalf("volume %s is %s", v.ID, v.Status)
	}
	return v
}

func usageOf(t *testing.T, s *store.Store) map[string]store.Usage {
	t.Helper()
	u, err := s.QuotaUsage(t.Context(), "p")
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestSnapshot(t *testing.T) {
	st := storetest.Open(t)
	b := fakeBackend(t, st, "fake", "p", "10GiB")
	svc := newService(t, st, BackendSet{"fake": b}, nil)
	v := availableVolume(t, svc, st)
	before := usageOf(t, st)
	snap, err := svc.CreateSnapshot(t.Context(), SnapshotRequest{ProjectID: "p", UserID: "u", VolumeID: v.ID,
		Name: "s", Metadata: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	if snap.Status != volume.StatusCreating || snap.SizeBytes != v.SizeBytes || snap.Name != "s" {
		t.Errorf("returned %+v, want a creating snapshot of the volume's size", snap)
	}
	if snap = settleSnapshot(t, st, snap.ID); snap.Status != volume.StatusAvailable || !b.holds(t, snap.ID) {
		t.Fatalf("snapshot %s, on the backend: %v", snap.Status, b.holds(t, snap.ID))
	}
	u := usageOf(t, st)
	if u[store.Snapshots].InUse != before[store.Snapshots].InUse+1 || u[store.Gigabytes].InUse != before[store.Gigabytes].InUse+1 {
		t.Errorf("usage after the snapshot: %+v, before %+v", u, before)
	}
	checkBooks(t, st)
	// The volume has a snapshot: it cannot be deleted.
	var te *volume.TransitionError
	if err := svc.DeleteVolume(t.Context(), store.ProjectScope("p"), "p", v.ID, DeleteOptions{}); !errors.As(err, &te) {
		t.Errorf("delete of a volume with a snapshot: %v", err)
	}
	if err := svc.DeleteSnapshot(t.Context(), store.ProjectScope("q"), "q", snap.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another project deletes it: %v", err)
	}
	if err := svc.DeleteSnapshot(t.Context(), store.ProjectScope("p"), "p", snap.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Snapshot(t.Context(), store.AllProjects(), snap.ID); !errors.Is(err, store.ErrNotFound) || b.holds(t, snap.ID) {
		t.Errorf("after the delete: %v, on the backend: %v", err, b.holds(t, snap.ID))
	}
	if got := usageOf(t, st); got[store.Snapshots] != before[store.Snapshots] || got[store.Gigabytes] != before[store.Gigabytes] {
		t.Errorf("usage after the delete: %+v, want %+v", got, before)
	}
	// Events are staged: they become readable with the next group commit.
	want := []string{EventSnapshotCreateStart, EventSnapshotCreateEnd, EventSnapshotDeleteStart, EventSnapshotDeleteEnd}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		kinds := eventKinds(t, st, v.ID)
		if len(kinds) >= 2+len(want) {
			if !slices.Equal(kinds[2:], want) {
				t.Errorf("events %v, want the volume's two then %v", kinds, want)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("events %v, want %v too", kinds, want)
		}
	}
	checkBooks(t, st)
}

func TestSnapshot_refused(t *testing.T) {
	st := storetest.Open(t)
	b := fakeBackend(t, st, "fake", "p", "10GiB")
	svc := newService(t, st, BackendSet{"fake": b}, nil)
	v := availableVolume(t, svc, st)
	in := SnapshotRequest{ProjectID: "p", UserID: "u", VolumeID: v.ID}
	if _, err := svc.CreateSnapshot(t.Context(), SnapshotRequest{ProjectID: "q", UserID: "u", VolumeID: v.ID}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another project's volume: %v", err)
	}
	reset, _ := volume.ResetStatus(volume.KindVolume, volume.StatusMaintenance)
	if _, err := st.TransitionVolume(t.Context(), store.AllProjects(), v.ID, reset, store.VolumeChange{}); err != nil {
		t.Fatal(err)
	}
	var te *volume.TransitionError
	in.Force = true
	if _, err := svc.CreateSnapshot(t.Context(), in); !errors.As(err, &te) {
		t.Errorf("a volume in maintenance: %v", err)
	}
	reset, _ = volume.ResetStatus(volume.KindVolume, volume.StatusAvailable)
	if _, err := st.TransitionVolume(t.Context(), store.AllProjects(), v.ID, reset, store.VolumeChange{}); err != nil {
		t.Fatal(err)
	}
	if err := st.SetQuotaLimits(t.Context(), "p", store.Limits{store.Snapshots: 0}); err != nil {
		t.Fatal(err)
	}
	var over *store.OverQuotaError
	if _, err := svc.CreateSnapshot(t.Context(), in); !errors.As(err, &over) || over.Resource != store.Snapshots {
		t.Errorf("over quota: %v", err)
	}
	snaps, err := st.ListSnapshots(t.Context(), store.AllProjects(), store.SnapshotFilter{}, store.ListOptions{})
	if err != nil || len(snaps) != 0 {
		t.Errorf("refused creates left snapshots: %+v, %v", snaps, err)
	}
	checkBooks(t, st)
}

// TestSnapshot_driverFailures: a failing driver create ends in `error` with nothing on the
// backend and the quota held until the delete (TestSnapshot_deleteFails: a failing driver
// delete ends in `error_deleting`, never `deleting`).
func TestSnapshot_driverFailures(t *testing.T) {
	st := storetest.Open(t)
	b := fakeBackend(t, st, "fake", "p", "10GiB", fake.Failure{Op: fake.OpCreateSnapshot, Code: "Internal", Mode: "once"})
	svc := newService(t, st, BackendSet{"fake": b}, nil)
	v := availableVolume(t, svc, st)
	before := usageOf(t, st)
	in := SnapshotRequest{ProjectID: "p", UserID: "u", VolumeID: v.ID}
	snap, err := svc.CreateSnapshot(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	if snap = settleSnapshot(t, st, snap.ID); snap.Status != volume.StatusError || !strings.Contains(snap.Fault, "INJECTED") || b.holds(t, snap.ID) {
		t.Errorf("after a driver failure: %s (%q), on the backend %v", snap.Status, snap.Fault, b.holds(t, snap.ID))
	}
	checkBooks(t, st)
	// The error snapshot is deleted: its quota comes back.
	if err := svc.DeleteSnapshot(t.Context(), store.ProjectScope("p"), "p", snap.ID); err != nil {
		t.Fatal(err)
	}
	if got := usageOf(t, st); got[store.Snapshots] != before[store.Snapshots] || got[store.Gigabytes] != before[store.Gigabytes] {
		t.Errorf("usage: %+v, want %+v", got, before)
	}
	checkBooks(t, st)
}

func TestSnapshot_deleteFails(t *testing.T) {
	st := storetest.Open(t)
	b := fakeBackend(t, st, "fake", "p", "10GiB", fake.Failure{Op: fake.OpDeleteSnapshot, Code: "Unavailable", Mode: "once"})
	svc := newService(t, st, BackendSet{"fake": b}, nil)
	v := availableVolume(t, svc, st)
	// The delete fails once: error_deleting, quota kept; error_deleting cannot be deleted.
	snap, err := svc.CreateSnapshot(t.Context(), SnapshotRequest{ProjectID: "p", UserID: "u", VolumeID: v.ID})
	if err != nil {
		t.Fatal(err)
	}
	settleSnapshot(t, st, snap.ID)
	if err := svc.DeleteSnapshot(t.Context(), store.ProjectScope("p"), "p", snap.ID); err == nil {
		t.Fatal("a failing driver delete succeeded")
	}
	got, _ := st.Snapshot(t.Context(), store.AllProjects(), snap.ID)
	if got.Status != volume.StatusErrorDeleting || got.Fault == "" || !b.holds(t, snap.ID) {
		t.Errorf("after a failed delete: %s (%q)", got.Status, got.Fault)
	}
	var te *volume.TransitionError
	if err := svc.DeleteSnapshot(t.Context(), store.ProjectScope("p"), "p", snap.ID); !errors.As(err, &te) {
		t.Errorf("delete from error_deleting: %v", err)
	}
	checkBooks(t, st)
}

// TestSnapshot_recovered: a snapshot_create flow journaled right before the driver call (the
// process died there) is resumed by recovery and ends `available`.
func TestSnapshot_recovered(t *testing.T) {
	st := storetest.Open(t)
	b := fakeBackend(t, st, "fake", "p", "10GiB")
	svc := newService(t, st, BackendSet{"fake": b}, nil)
	v := availableVolume(t, svc, st)
	in := SnapshotRequest{ProjectID: "p", UserID: "u", VolumeID: v.ID}
	if err := st.Reserve(t.Context(), store.Reservation{FlowID: "f-s", ProjectID: "p",
		Deltas: st.SnapshotDeltas(store.DefaultTypeName, v.SizeBytes)}); err != nil {
		t.Fatal(err)
	}
	snap, err := st.CreateSnapshot(t.Context(), store.ProjectScope("p"), store.Snapshot{VolumeID: v.ID, UserID: "u"},
		volume.SnapshotSource, "f-s")
	if err != nil {
		t.Fatal(err)
	}
	state, _ := json.Marshal(snapshotState{FlowID: "f-s", Request: in, SnapshotID: snap.ID, Snapshot: snap,
		TypeName: store.DefaultTypeName, SizeBytes: v.SizeBytes})
	if err := st.Journal("").Save(t.Context(), flow.Entry{ID: "f-s", Flow: "snapshot_create", Task: 3,
		Phase: flow.Executing, Failed: -1, State: state}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Recover(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := settleSnapshot(t, st, snap.ID); got.Status != volume.StatusAvailable || !b.holds(t, snap.ID) {
		t.Errorf("after recovery: %s", got.Status)
	}
	checkBooks(t, st)
}
