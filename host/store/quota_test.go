package store_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/store/storetest"
	"github.com/kilnstorage/kiln/host/volume"
)

const def = store.DefaultTypeName

// checkClean fails unless usage equals what the rows count.
func checkClean(t *testing.T, s *store.Store) {
	t.Helper()
	rep, err := s.CheckQuotas(t.Context(), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Drifts) > 0 {
		t.Fatalf("usage drifted from the rows: %+v", rep.Drifts)
	}
}

func usage(t *testing.T, s *store.Store, project string, resources ...string) map[string]store.Usage {
	t.Helper()
	all, err := s.QuotaUsage(t.Context(), project)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.Usage{}
	for _, r := range resources {
		out[r] = all[r]
	}
	return out
}

func TestQuotaLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		s := db.Open(t, store.WithQuotaDefaults(store.Limits{store.Volumes: 20}))
		ctx := t.Context()
		want := store.Limits{"volumes": 20, "snapshots": 10, "gigabytes": 1000, "backups": 10,
			"backup_gigabytes": 1000, "groups": 10, "per_volume_gigabytes": -1,
			"volumes___DEFAULT__": -1, "gigabytes___DEFAULT__": -1, "snapshots___DEFAULT__": -1}
		got, err := s.QuotaLimits(ctx, "p")
		if err != nil || !cmp.Equal(want, got) {
			t.Fatalf("limits (-want +got): %v\n%s", err, cmp.Diff(want, got))
		}
		if err := s.SetDefaultQuotaLimits(ctx, store.Limits{store.Snapshots: 3}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetQuotaLimits(ctx, "p", store.Limits{store.Gigabytes: 50, "volumes___DEFAULT__": 4}); err != nil {
			t.Fatal(err)
		}
		want["snapshots"], want["gigabytes"], want["volumes___DEFAULT__"] = 3, 50, 4
		if got, _ := s.QuotaLimits(ctx, "p"); !cmp.Equal(want, got) {
			t.Errorf("overridden limits (-want +got):\n%s", cmp.Diff(want, got))
		}
		if got, _ := s.DefaultQuotaLimits(ctx); got["gigabytes"] != 1000 || got["snapshots"] != 3 {
			t.Errorf("defaults: %v", got)
		}
		if err := s.ResetQuotaLimits(ctx, "p"); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.QuotaLimits(ctx, "p"); got["gigabytes"] != 1000 {
			t.Errorf("after reset: %v", got)
		}
	})
}

func TestSetQuotaLimitsValidates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		s := db.Open(t)
		ctx := t.Context()
		addVolume(t, s, "p", 3)
		addVolume(t, s, "p", 3)
		for _, l := range []store.Limits{{"volumes": 1}, {"gigabytes": 5}, {"volumes": -2}, {"bogus": 1}, {"volumes_nosuchtype": 1}} {
			if err := s.SetQuotaLimits(ctx, "p", l); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("SetQuotaLimits(%v) = %v, want ErrInvalid", l, err)
			}
		}
		for _, l := range []store.Limits{{"volumes": 2}, {"volumes": -1}, {"per_volume_gigabytes": 0}, {"gigabytes": 6}} {
			if err := s.SetQuotaLimits(ctx, "p", l); err != nil {
				t.Errorf("SetQuotaLimits(%v) = %v", l, err)
			}
		}
	})
}

func TestReserveOverQuota(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		s := db.Open(t)
		ctx := t.Context()
		if err := s.SetQuotaLimits(ctx, "p", store.Limits{store.Volumes: 2}); err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			if err := s.Reserve(ctx, store.Reservation{FlowID: fmt.Sprint("f", i), ProjectID: "p", Deltas: store.VolumeDeltas(def, gib)}); err != nil {
				t.Fatal(err)
			}
		}
		err := s.Reserve(ctx, store.Reservation{FlowID: "f2", ProjectID: "p", Deltas: store.VolumeDeltas(def, gib)})
		want := &store.OverQuotaError{ProjectID: "p", Resource: "volumes", Limit: 2, InUse: 0, Reserved: 2, Requested: 1}
		var oq *store.OverQuotaError
		if !errors.As(err, &oq) || !errors.Is(err, store.ErrOverQuota) {
			t.Fatalf("third reservation: %v", err)
		}
		if diff := cmp.Diff(want, oq); diff != "" {
			t.Errorf("error (-want +got):\n%s", diff)
		}
		if got := oq.Error(); got != "quota exceeded for volumes: requested 1, limit 2, 0 in use, 2 reserved" {
			t.Errorf("message %q", got)
		}
		for _, bad := range []store.Reservation{{ProjectID: "p", Deltas: map[string]int64{"volumes": 1}},
			{FlowID: "f", ProjectID: "p", Deltas: map[string]int64{"bogus": 1}},
			{FlowID: "f", ProjectID: "p", Deltas: map[string]int64{"per_volume_gigabytes": 1}}} {
			if err := s.Reserve(ctx, bad); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("Reserve(%+v) = %v, want ErrInvalid", bad, err)
			}
		}
	})
}

// TestCheckQuota: CheckQuota refuses what Reserve would refuse, with the same error, counting
// the volumes of a project whose usage rows do not exist yet and what other flows hold; it
// holds and writes nothing; and a create that lost the race after it is refused by its own
// write.
func TestCheckQuota(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		s := db.Open(t)
		ctx := t.Context()
		if err := s.SetQuotaLimits(ctx, "p", store.Limits{store.Volumes: 2, store.PerVolumeGigabytes: 5}); err != nil {
			t.Fatal(err)
		}
		one := store.Reservation{FlowID: "c", ProjectID: "p", Deltas: store.VolumeDeltas(def, gib), VolumeGigabytes: 1}
		if err := s.CheckQuota(ctx, one); err != nil {
			t.Fatalf("first volume: %v", err)
		}
		if err := s.CheckQuota(ctx, store.Reservation{FlowID: "c", ProjectID: "p",
			Deltas: store.VolumeDeltas(def, 6*gib), VolumeGigabytes: 6}); !errors.Is(err, store.ErrOverQuota) {
			t.Errorf("6 GiB over per_volume_gigabytes 5: %v", err)
		}
		if u := usage(t, s, "p", store.Volumes)[store.Volumes]; u.InUse != 0 || u.Reserved != 0 {
			t.Errorf("usage after checks = %+v, want nothing held", u)
		}
		// Without usage rows (none made yet, or lost), the check counts the volumes.
		addVolume(t, s, "p", 1)
		if err := s.SetQuotaLimits(ctx, "p", store.Limits{store.Volumes: 1}); err != nil {
			t.Fatal(err)
		}
		db.Exec(t, "DELETE FROM quota_usages")
		var oq *store.OverQuotaError
		want := &store.OverQuotaError{ProjectID: "p", Resource: "volumes", Limit: 1, InUse: 1, Reserved: 0, Requested: 1}
		if err := s.CheckQuota(ctx, one); !errors.As(err, &oq) || cmp.Diff(want, oq) != "" {
			t.Errorf("check without usage rows = %v, want %+v", err, want)
		}
		// What another flow holds counts; what the checking flow holds does not.
		if err := s.SetQuotaLimits(ctx, "p", store.Limits{store.Volumes: 2}); err != nil {
			t.Fatal(err)
		}
		if err := s.Reserve(ctx, store.Reservation{FlowID: "r", ProjectID: "p", Deltas: store.VolumeDeltas(def, gib)}); err != nil {
			t.Fatal(err)
		}
		want = &store.OverQuotaError{ProjectID: "p", Resource: "volumes", Limit: 2, InUse: 1, Reserved: 1, Requested: 1}
		if err := s.CheckQuota(ctx, one); !errors.As(err, &oq) || cmp.Diff(want, oq) != "" {
			t.Errorf("check over quota = %v, want %+v", err, want)
		}
		if err := s.CheckQuota(ctx, store.Reservation{FlowID: "r", ProjectID: "p", Deltas: store.VolumeDeltas(def, gib)}); err != nil {
			t.Errorf("the flow that holds the last volume: %v", err)
		}
		if _, err := s.CreateVolume(ctx, store.Volume{ProjectID: "p", UserID: "u", SizeBytes: gib}, "c"); !errors.Is(err, store.ErrOverQuota) {
			t.Errorf("a create past the check: %v, want over quota", err)
		}
		if err := s.CheckQuota(ctx, store.Reservation{ProjectID: "p", Deltas: store.VolumeDeltas(def, gib)}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("no flow: %v, want ErrInvalid", err)
		}
	})
}

func TestPerVolumeGigabytes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		s := db.Open(t)
		ctx := t.Context()
		if err := s.SetQuotaLimits(ctx, "p", store.Limits{store.PerVolumeGigabytes: 5}); err != nil {
			t.Fatal(err)
		}
		err := s.Reserve(ctx, store.Reservation{FlowID: "f", ProjectID: "p", Deltas: store.VolumeDeltas(def, 6*gib), VolumeGigabytes: 6})
		var oq *store.OverQuotaError
		if !errors.As(err, &oq) || oq.Resource != store.PerVolumeGigabytes || oq.Limit != 5 || oq.Requested != 6 {
			t.Fatalf("reserve 6 GiB: %v", err)
		}
		if _, err := s.CreateVolume(ctx, store.Volume{ProjectID: "p", UserID: "u", SizeBytes: 6 * gib}, ""); !errors.As(err, &oq) {
			t.Fatalf("create 6 GiB: %v", err)
		}
		v := addVolume(t, s, "p", 5)
		setStatus(t, s, v.ID, volume.StatusExtending)
		if _, err := s.TransitionVolume(ctx, store.AllProjects(), v.ID, volume.ExtendDone, store.VolumeChange{SizeBytes: 6 * gib}); !errors.As(err, &oq) {
			t.Fatalf("extend to 6 GiB: %v", err)
		}
	})
}

// TestQuotaLifecycle follows usage through reserve, create (the commit), extend, snapshot and
// delete, and checks after each step that usage equals the rows.
func TestQuotaLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		s := db.Open(t)
		ctx := t.Context()
		sc := store.AllProjects()
		keys := []string{"volumes", "gigabytes", "snapshots", "volumes___DEFAULT__", "gigabytes___DEFAULT__"}
		expect := func(step string, want map[string]store.Usage) {
			t.Helper()
			if diff := cmp.Diff(want, usage(t, s, "p", keys...)); diff != "" {
				t.Errorf("%s: usage (-want +got):\n%s", step, diff)
			}
			checkClean(t, s)
		}
		u := func(limit, inUse, reserved int64) store.Usage {
			return store.Usage{Limit: limit, InUse: inUse, Reserved: reserved}
		}

		if err := s.Reserve(ctx, store.Reservation{FlowID: "create", ProjectID: "p", Deltas: store.VolumeDeltas(def, 2*gib)}); err != nil {
			t.Fatal(err)
		}
		expect("reserved", map[string]store.Usage{"volumes": u(10, 0, 1), "gigabytes": u(1000, 0, 2), "snapshots": u(10, 0, 0),
			"volumes___DEFAULT__": u(-1, 0, 1), "gigabytes___DEFAULT__": u(-1, 0, 2)})
		v, err := s.CreateVolume(ctx, store.Volume{ProjectID: "p", UserID: "u", SizeBytes: 2 * gib}, "create")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.RollbackReservations(ctx, "create"); err != nil {
			t.Fatal(err)
		}
		expect("created", map[string]store.Usage{"volumes": u(10, 1, 0), "gigabytes": u(1000, 2, 0), "snapshots": u(10, 0, 0),
			"volumes___DEFAULT__": u(-1, 1, 0), "gigabytes___DEFAULT__": u(-1, 2, 0)})

		place(t, s, v.ID, "b", "p")
		if err := s.Reserve(ctx, store.Reservation{FlowID: "extend", ProjectID: "p", Deltas: store.ExtendDeltas(def, 2*gib, 5*gib), VolumeGigabytes: 5}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.TransitionVolume(ctx, sc, v.ID, volume.ExtendBegin, store.VolumeChange{}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.TransitionVolume(ctx, sc, v.ID, volume.ExtendDone, store.VolumeChange{SizeBytes: 5 * gib, FlowID: "extend"}); err != nil {
			t.Fatal(err)
		}
		expect("extended", map[string]store.Usage{"volumes": u(10, 1, 0), "gigabytes": u(1000, 5, 0), "snapshots": u(10, 0, 0),
			"volumes___DEFAULT__": u(-1, 1, 0), "gigabytes___DEFAULT__": u(-1, 5, 0)})

		if err := s.Reserve(ctx, store.Reservation{FlowID: "snap", ProjectID: "p", Deltas: s.SnapshotDeltas(def, 5*gib)}); err != nil {
			t.Fatal(err)
		}
		snap, err := s.CreateSnapshot(ctx, sc, store.Snapshot{VolumeID: v.ID, UserID: "u"}, volume.SnapshotSource, "snap")
		if err != nil {
			t.Fatal(err)
		}
		expect("snapshot", map[string]store.Usage{"volumes": u(10, 1, 0), "gigabytes": u(1000, 10, 0), "snapshots": u(10, 1, 0),
			"volumes___DEFAULT__": u(-1, 1, 0), "gigabytes___DEFAULT__": u(-1, 10, 0)})

		for _, tr := range []volume.Transition{volume.SnapshotCreateDone, volume.SnapshotDeleteBegin, volume.SnapshotDestroy} {
			if _, err := s.TransitionSnapshot(ctx, sc, snap.ID, tr, store.SnapshotChange{}); err != nil {
				t.Fatal(err)
			}
		}
		for _, tr := range []volume.Transition{volume.DeleteBegin, volume.Destroy} {
			if _, err := s.TransitionVolume(ctx, sc, v.ID, tr, store.VolumeChange{}); err != nil {
				t.Fatal(err)
			}
		}
		expect("deleted", map[string]store.Usage{"volumes": u(10, 0, 0), "gigabytes": u(1000, 0, 0), "snapshots": u(10, 0, 0),
			"volumes___DEFAULT__": u(-1, 0, 0), "gigabytes___DEFAULT__": u(-1, 0, 0)})
	})
}

func TestReserveIsIdempotentPerFlow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		s := db.Open(t)
		ctx := t.Context()
		for _, gb := range []int64{3, 3, 4} {
			if err := s.Reserve(ctx, store.Reservation{FlowID: "f", ProjectID: "p", Deltas: store.VolumeDeltas("", gb*gib)}); err != nil {
				t.Fatal(err)
			}
		}
		want := map[string]store.Usage{"volumes": {Limit: 10, Reserved: 1}, "gigabytes": {Limit: 1000, Reserved: 4}}
		if diff := cmp.Diff(want, usage(t, s, "p", "volumes", "gigabytes")); diff != "" {
			t.Errorf("usage (-want +got):\n%s", diff)
		}
		for range 2 {
			if err := s.RollbackReservations(ctx, "f"); err != nil {
				t.Fatal(err)
			}
		}
		want = map[string]store.Usage{"volumes": {Limit: 10}, "gigabytes": {Limit: 1000}}
		if diff := cmp.Diff(want, usage(t, s, "p", "volumes", "gigabytes")); diff != "" {
			t.Errorf("after rollback (-want +got):\n%s", diff)
		}
		checkClean(t, s)
	})
}

func TestSnapshotGigabytesOption(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		s := db.Open(t, store.WithoutSnapshotGigabytes())
		v := addVolume(t, s, "p", 2)
		place(t, s, v.ID, "b", "p")
		if _, err := s.CreateSnapshot(t.Context(), store.ProjectScope("p"), store.Snapshot{VolumeID: v.ID, UserID: "u"}, volume.SnapshotSource, ""); err != nil {
			t.Fatal(err)
		}
		got := usage(t, s, "p", "gigabytes", "snapshots")
		if got["gigabytes"].InUse != 2 || got["snapshots"].InUse != 1 {
			t.Errorf("usage without snapshot gigabytes: %+v", got)
		}
		checkClean(t, s)
	})
}
