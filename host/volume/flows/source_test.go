package flows

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/store/storetest"
	"github.com/kilnstorage/kiln/host/volume"
	"github.com/kilnstorage/kiln/sdk"
	"github.com/kilnstorage/kiln/sdk/fake"
)

// availableSnapshot snapshots the volume through the flows and waits for it.
func availableSnapshot(t *testing.T, svc *Service, st *store.Store, volumeID string) store.Snapshot {
	t.Helper()
	snap, err := svc.CreateSnapshot(t.Context(), SnapshotRequest{ProjectID: "p", UserID: "u", VolumeID: volumeID})
	if err != nil {
		t.Fatal(err)
	}
	if snap = settleSnapshot(t, st, snap.ID); snap.Status != volume.StatusAvailable {
		t.Fatalf("snapshot %s is %s", snap.ID, snap.Status)
	}
	return snap
}

// TestCreateFromSource: a volume made from a snapshot or cloned takes the source's size when
// none is given, refuses a smaller one, lands on the source's pool even when another is
// emptier, and the driver made it from the source.
func TestCreateFromSource(t *testing.T) {
	st := storetest.Open(t)
	a := fakeBackend(t, st, "a", "pa", "20GiB")
	svc := newService(t, st, BackendSet{"a": a}, nil)
	src := availableVolume(t, svc, st)
	snap := availableSnapshot(t, svc, st, src.ID)
	// Another backend, much emptier, appears: copies stay with their source.
	b := fakeBackend(t, st, "b", "pb", "1000GiB")
	svc.cfg.Backends.(BackendSet)["b"] = b

	for _, c := range []struct {
		name    string
		edit    func(*Request)
		sizeGiB int64
		driver  func(sdk.Volume) string
	}{
		{"from snapshot", func(r *Request) { r.SnapshotID = snap.ID }, 1, func(v sdk.Volume) string { return v.SourceSnapshotID }},
		{"from snapshot, larger", func(r *Request) { r.SnapshotID, r.SizeGiB = snap.ID, 3 }, 3, func(v sdk.Volume) string { return v.SourceSnapshotID }},
		{"clone", func(r *Request) { r.SourceVolumeID = src.ID }, 1, func(v sdk.Volume) string { return v.SourceVolumeID }},
	} {
		r := Request{ProjectID: "p", UserID: "u"}
		c.edit(&r)
		v, err := svc.CreateVolume(t.Context(), r)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		v = settle(t, st, v.ID)
		if v.Status != volume.StatusAvailable || v.Backend != "a" || v.Pool != "pa" || v.SizeBytes != c.sizeGiB*store.GiB ||
			v.VolumeTypeID != src.VolumeTypeID || v.SnapshotID != r.SnapshotID || v.SourceVolumeID != r.SourceVolumeID {
			t.Errorf("%s: %+v", c.name, v)
		}
		got, err := a.c.GetVolume(t.Context(), sdk.VolumeRef{ID: v.ID, Pool: v.Pool, ProviderData: v.ProviderData})
		if err != nil || c.driver(got) == "" {
			t.Errorf("%s: the driver's volume %+v, %v, want made from its source", c.name, got, err)
		}
	}
	for name, r := range map[string]Request{
		"smaller than the snapshot": {ProjectID: "p", UserID: "u", SnapshotID: snap.ID, SizeGiB: 1, AvailabilityZone: "mars"},
		"another project's":         {ProjectID: "q", UserID: "u", SnapshotID: snap.ID},
	} {
		if _, err := svc.CreateVolume(t.Context(), r); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	var nf *NotFoundError
	if _, err := svc.CreateVolume(t.Context(), Request{ProjectID: "q", UserID: "u", SourceVolumeID: src.ID}); !errors.As(err, &nf) {
		t.Errorf("clone of another project's volume: %v, want NotFoundError", err)
	}
	// The source pool cannot hold it: error, though pool pb could.
	v, err := svc.CreateVolume(t.Context(), Request{ProjectID: "p", UserID: "u", SnapshotID: snap.ID, SizeGiB: 30})
	if err != nil {
		t.Fatal(err)
	}
	if v = settle(t, st, v.ID); v.Status != volume.StatusError || !strings.Contains(v.Fault, "SourceBackend") && !strings.Contains(v.Fault, "Capacity") {
		t.Errorf("too large for the source pool: %s (%q)", v.Status, v.Fault)
	}
	if got, _ := st.Snapshot(t.Context(), store.AllProjects(), snap.ID); got.Status != volume.StatusAvailable {
		t.Errorf("the snapshot is %s after the creates", got.Status)
	}
	checkBooks(t, st)
}

// TestCreateFromSource_driverFails: a driver failure of a restore or a clone ends the new volume
// in `error` (it is not rescheduled: the source pool is the only one), leaves nothing on the
// backend and the source as it was; deleting the failed volume gives its quota back.
func TestCreateFromSource_driverFails(t *testing.T) {
	for _, op := range []string{fake.OpCreateVolumeFromSnapshot, fake.OpCloneVolume} {
		t.Run(op, func(t *testing.T) {
			st := storetest.Open(t)
			b := fakeBackend(t, st, "a", "pa", "20GiB", fake.Failure{Op: op, Code: "Internal", Mode: "always"})
			svc := newService(t, st, BackendSet{"a": b}, nil)
			src := availableVolume(t, svc, st)
			snap := availableSnapshot(t, svc, st, src.ID)
			before := usageOf(t, st)
			r := Request{ProjectID: "p", UserID: "u", SnapshotID: snap.ID}
			if op == fake.OpCloneVolume {
				r = Request{ProjectID: "p", UserID: "u", SourceVolumeID: src.ID}
			}
			v, err := svc.CreateVolume(t.Context(), r)
			if err != nil {
				t.Fatal(err)
			}
			if v = settle(t, st, v.ID); v.Status != volume.StatusError || !strings.Contains(v.Fault, "INJECTED") {
				t.Errorf("after the driver failed: %s (%q)", v.Status, v.Fault)
			}
			if _, err := b.c.GetVolume(t.Context(), sdk.VolumeRef{ID: v.ID, Pool: "pa"}); sdk.CodeOf(err) != sdk.NotFound {
				t.Errorf("the driver has the failed volume: %v", err)
			}
			gotSrc, _ := st.Volume(t.Context(), store.AllProjects(), src.ID)
			gotSnap, _ := st.Snapshot(t.Context(), store.AllProjects(), snap.ID)
			if gotSrc.Status != volume.StatusAvailable || gotSnap.Status != volume.StatusAvailable {
				t.Errorf("sources after the failure: volume %s, snapshot %s", gotSrc.Status, gotSnap.Status)
			}
			checkBooks(t, st)
			if err := svc.DeleteVolume(t.Context(), store.ProjectScope("p"), "p", v.ID, DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			if got := usageOf(t, st); got[store.Volumes] != before[store.Volumes] || got[store.Gigabytes] != before[store.Gigabytes] {
				t.Errorf("usage %+v, want %+v", got, before)
			}
			checkBooks(t, st)
		})
	}
}

// TestCreateFromSource_lock: while a volume is being made from a snapshot or a volume, neither
// source can be deleted; afterwards both can.
func TestCreateFromSource_lock(t *testing.T) {
	st := storetest.Open(t)
	b := fakeBackendConfig(t, st, "a", map[string]any{"pool": []map[string]any{{"name": "pa", "total": "20GiB"}},
		"latency": map[string]string{fake.OpCreateVolumeFromSnapshot: "300ms", fake.OpCloneVolume: "300ms"}})
	svc := newService(t, st, BackendSet{"a": b}, nil)
	src := availableVolume(t, svc, st)
	snap := availableSnapshot(t, svc, st, src.ID)
	restored, err := svc.CreateVolume(t.Context(), Request{ProjectID: "p", UserID: "u", SnapshotID: snap.ID})
	if err != nil {
		t.Fatal(err)
	}
	var te *volume.TransitionError
	if err := svc.DeleteSnapshot(t.Context(), store.ProjectScope("p"), "p", snap.ID); !errors.As(err, &te) ||
		!strings.Contains(te.Error(), "being created from it") {
		t.Errorf("delete of a snapshot being restored: %v", err)
	}
	settle(t, st, restored.ID)
	if err := svc.DeleteSnapshot(t.Context(), store.ProjectScope("p"), "p", snap.ID); err != nil {
		t.Errorf("delete of the snapshot afterwards: %v", err)
	}
	clone, err := svc.CreateVolume(t.Context(), Request{ProjectID: "p", UserID: "u", SourceVolumeID: src.ID})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := svc.DeleteVolume(t.Context(), store.ProjectScope("p"), "p", src.ID, DeleteOptions{}); !errors.As(err, &te) ||
		!strings.Contains(te.Error(), "being created from it") {
		t.Errorf("delete of a volume being cloned: %v (after %v)", err, time.Since(start))
	}
	settle(t, st, clone.ID)
	if err := svc.DeleteVolume(t.Context(), store.ProjectScope("p"), "p", src.ID, DeleteOptions{}); err != nil {
		t.Errorf("delete of the source afterwards: %v", err)
	}
	checkBooks(t, st)
}

// TestCreateFromSource_acrossPools: a clone too large for its source's pool lands in another
// pool of the same backend when the source pool declares clone_across_pools, and fails
// otherwise.
func TestCreateFromSource_acrossPools(t *testing.T) {
	for _, across := range []bool{true, false} {
		st := storetest.Open(t)
		features := map[string]any{"snapshots": true, "clone": true, "create_from_snapshot": true,
			"extend": true, "clone_across_pools": across}
		a := fakeBackendConfig(t, st, "a", map[string]any{"pool": []map[string]any{
			{"name": "small", "total": "20GiB", "features": features},
			{"name": "big", "total": "1000GiB"}}})
		svc := newService(t, st, BackendSet{"a": a}, nil)
		// The source, on the small pool.
		src := creatingVolume(t, st)
		onSmall := func([]store.PoolState) (store.PoolKey, error) { return store.PoolKey{Backend: "a", Pool: "small"}, nil }
		if _, err := st.Place(t.Context(), store.PlaceRequest{VolumeID: src.ID, FlowID: "f", Bytes: src.SizeBytes}, onSmall); err != nil {
			t.Fatal(err)
		}
		if _, err := a.c.CreateVolume(t.Context(), sdk.CreateVolumeRequest{ID: src.ID, Pool: "small", SizeBytes: src.SizeBytes}); err != nil {
			t.Fatal(err)
		}
		backend, pool := "a", "small"
		if _, err := st.TransitionVolume(t.Context(), store.AllProjects(), src.ID, volume.CreateDone,
			store.VolumeChange{Backend: &backend, Pool: &pool}); err != nil {
			t.Fatal(err)
		}
		v, err := svc.CreateVolume(t.Context(), Request{ProjectID: "p", UserID: "u", SourceVolumeID: src.ID, SizeGiB: 30})
		if err != nil {
			t.Fatal(err)
		}
		v = settle(t, st, v.ID)
		switch {
		case across && (v.Status != volume.StatusAvailable || v.Pool != "big"):
			t.Errorf("clone_across_pools: %s on %s (%q), want available on big", v.Status, v.Pool, v.Fault)
		case !across && v.Status != volume.StatusError:
			t.Errorf("without clone_across_pools: %s on %s, want error", v.Status, v.Pool)
		}
		checkBooks(t, st)
	}
}
