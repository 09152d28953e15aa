package store_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/store/storetest"
	"github.com/kilnstorage/kiln/host/volume"
	"github.com/kilnstorage/kiln/sdk"
)

func TestReportCapacityRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		s := db.Open(t)
		received := time.Date(2026, 2, 3, 4, 5, 6, 7000, time.UTC)
		pool := sdk.Pool{Name: "thin", State: sdk.PoolDegraded, StateReason: "scrubbing",
			TotalBytes: 100 * gib, FreeBytes: 60 * gib, ProvisionedBytes: 300 * gib, Thin: true,
			MaxOversubscription: 2.5, MinVolumeBytes: gib, MaxVolumeBytes: 50 * gib, GranularityBytes: 4 << 20,
			Features:  &sdk.FeatureSet{Snapshots: true, Extend: true, Protocols: []string{"iSCSI"}},
			Resources: []sdk.Resource{{Name: "metadata", Total: 100, Free: 90}},
			Attributes: map[string]sdk.Attribute{"tier": sdk.StringAttr("gold"), "iops": sdk.IntAttr(5000, ""),
				"latency": sdk.FloatAttr(0.5, "ms"), "compression": sdk.BoolAttr(true)}}
		applied, err := s.ReportCapacity(t.Context(), store.BackendReport{Backend: "lvm1", AvailabilityZone: "az1",
			ReservedPercentage: 10, MaxOverSubscriptionRatio: "auto", ReceivedAt: received,
			Info: store.BackendInfo{VolumeBackendName: "fast", VendorName: "Kiln", DriverVersion: "1.2",
				FilterFunction: "capabilities.iops > 100", GoodnessFunction: "50"},
			Capacity: sdk.Capacity{BootID: "boot", Seq: 7, Pools: []sdk.Pool{pool}}})
		if err != nil || !applied {
			t.Fatalf("ReportCapacity = %v, %v", applied, err)
		}
		got, err := s.Pools(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		want := []store.PoolState{{Backend: "lvm1", AvailabilityZone: "az1", Report: pool, ReservedPercentage: 10,
			MaxOverSubscriptionRatio: "auto", BootID: "boot", Seq: 7, ReceivedAt: received,
			Info: store.BackendInfo{VolumeBackendName: "fast", VendorName: "Kiln", DriverVersion: "1.2",
				FilterFunction: "capabilities.iops > 100", GoodnessFunction: "50"}}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("pools (-want +got):\n%s", diff)
		}
	})
}

// TestReportOrder: a report never overwrites a newer one of the same driver process; a new
// process's report always applies; pools missing from an applied report are marked down.
func TestReportOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		s := db.Open(t)
		send := func(boot string, seq uint64, pools ...string) bool {
			t.Helper()
			var ps []sdk.Pool
			for _, p := range pools {
				ps = append(ps, sdk.Pool{Name: p, TotalBytes: int64(seq) * gib, Thick: true})
			}
			ok, err := s.ReportCapacity(t.Context(), store.BackendReport{Backend: "b",
				Capacity: sdk.Capacity{BootID: boot, Seq: seq, Pools: ps}})
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		state := func() map[string]string {
			t.Helper()
			ps, err := s.Pools(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]string{}
			for _, p := range ps {
				out[p.Report.Name] = p.Report.State.String() + "/" + p.BootID + "/" + time.Duration(p.Report.TotalBytes/gib).String()
			}
			return out
		}
		steps := []struct {
			boot    string
			seq     uint64
			pools   []string
			applied bool
			want    map[string]string
		}{
			{"a", 5, []string{"p1", "p2"}, true, map[string]string{"p1": "up/a/5ns", "p2": "up/a/5ns"}},
			{"a", 4, []string{"p1", "p2"}, false, map[string]string{"p1": "up/a/5ns", "p2": "up/a/5ns"}},
			{"a", 5, []string{"p1"}, false, map[string]string{"p1": "up/a/5ns", "p2": "up/a/5ns"}},
			{"a", 6, []string{"p1"}, true, map[string]string{"p1": "up/a/6ns", "p2": "down/a/5ns"}},
			{"b", 1, []string{"p2"}, true, map[string]string{"p1": "down/b/6ns", "p2": "up/b/1ns"}},
			{"a", 9, []string{"p1", "p2"}, true, map[string]string{"p1": "up/a/9ns", "p2": "up/a/9ns"}},
		}
		for i, st := range steps {
			if got := send(st.boot, st.seq, st.pools...); got != st.applied {
				t.Errorf("step %d: applied %v, want %v", i, got, st.applied)
			}
			if diff := cmp.Diff(st.want, state()); diff != "" {
				t.Errorf("step %d (-want +got):\n%s", i, diff)
			}
		}
	})
}

func TestPlace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		s := db.Open(t)
		ctx := t.Context()
		report(t, s, "b1", "p1", 10*gib, 1)
		report(t, s, "b2", "p2", 10*gib, 1)
		v := addVolume(t, s, "p", 4)
		calls := 0
		decide := func(pools []store.PoolState) (store.PoolKey, error) {
			calls++
			if len(pools) != 2 {
				t.Errorf("%d candidates, want 2", len(pools))
			}
			return pools[1].Key(), nil
		}
		c, err := s.Place(ctx, store.PlaceRequest{VolumeID: v.ID, FlowID: "f", Bytes: 4 * gib}, decide)
		if err != nil || c.Key() != (store.PoolKey{Backend: "b2", Pool: "p2"}) || c.Bytes != 4*gib {
			t.Fatalf("Place = %+v, %v", c, err)
		}
		again, err := s.Place(ctx, store.PlaceRequest{VolumeID: v.ID, FlowID: "f", Bytes: 4 * gib}, decide)
		if err != nil || again != c || calls != 1 {
			t.Fatalf("placing again: %+v, %v after %d decisions; want the first claim, one decision", again, err, calls)
		}
		// An extend claims more of the same pool; the volume counts once.
		_, err = s.Place(ctx, store.PlaceRequest{VolumeID: v.ID, FlowID: "extend", Bytes: 2 * gib, Pools: []store.PoolKey{c.Key()}},
			func(pools []store.PoolState) (store.PoolKey, error) {
				if len(pools) != 1 || pools[0].ClaimedBytes != 4*gib || pools[0].ClaimedVolumes != 1 {
					t.Errorf("extend candidates: %+v", pools)
				}
				return pools[0].Key(), nil
			})
		if err != nil {
			t.Fatal(err)
		}
		claimed(t, s, map[string][2]int64{"b1#p1": {0, 0}, "b2#p2": {6 * gib, 1}})
		if err := s.ReleaseFlowClaims(ctx, "extend"); err != nil {
			t.Fatal(err)
		}
		claimed(t, s, map[string][2]int64{"b1#p1": {0, 0}, "b2#p2": {4 * gib, 1}})

		// Decisions' errors come back as they are; a pool that is no candidate is refused.
		w := addVolume(t, s, "p", 1)
		if _, err := s.Place(ctx, store.PlaceRequest{VolumeID: w.ID, FlowID: "g", Bytes: gib}, firstFit(100*gib)); !errors.Is(err, errNoValidBackend) {
			t.Errorf("decision error: %v", err)
		}
		_, err = s.Place(ctx, store.PlaceRequest{VolumeID: w.ID, FlowID: "g", Bytes: gib}, func([]store.PoolState) (store.PoolKey, error) {
			return store.PoolKey{Backend: "nope", Pool: "x"}, nil
		})
		if !errors.Is(err, store.ErrInvalid) {
			t.Errorf("unknown pool chosen: %v", err)
		}

		// Destroying the volume releases its claims in the same transaction.
		place(t, s, v.ID, "b2", "p2")
		for _, tr := range []volume.Transition{volume.DeleteBegin, volume.Destroy} {
			if _, err := s.TransitionVolume(ctx, store.AllProjects(), v.ID, tr, store.VolumeChange{}); err != nil {
				t.Fatal(err)
			}
		}
		claimed(t, s, map[string][2]int64{"b1#p1": {0, 0}, "b2#p2": {0, 0}})
		if cs, err := s.Claims(ctx, v.ID); err != nil || len(cs) != 0 {
			t.Errorf("claims left: %+v, %v", cs, err)
		}
	})
}

// TestPlace_status: a placement that names a status claims nothing for a volume in another
// one, or gone, and never asks for a decision.
func TestPlace_status(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		s := db.Open(t)
		ctx := t.Context()
		report(t, s, "b1", "p1", 10*gib, 1)
		decide := func(pools []store.PoolState) (store.PoolKey, error) {
			t.Error("decided for a volume that cannot be placed")
			return pools[0].Key(), nil
		}
		v := addVolume(t, s, "p", 1)
		setStatus(t, s, v.ID, volume.StatusAvailable)
		_, err := s.Place(ctx, store.PlaceRequest{VolumeID: v.ID, FlowID: "f", Bytes: gib, Status: volume.StatusCreating}, decide)
		if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "is available, not creating") {
			t.Errorf("placing an available volume as creating: %v", err)
		}
		_, err = s.Place(ctx, store.PlaceRequest{VolumeID: "gone", FlowID: "f", Bytes: gib, Status: volume.StatusCreating}, decide)
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("placing a volume that is not there: %v", err)
		}
		claimed(t, s, map[string][2]int64{"b1#p1": {0, 0}})
		w := addVolume(t, s, "p", 1) // creating
		if _, err := s.Place(ctx, store.PlaceRequest{VolumeID: w.ID, FlowID: "f", Bytes: gib, Status: volume.StatusCreating},
			firstFit(gib)); err != nil {
			t.Errorf("placing a creating volume: %v", err)
		}
		claimed(t, s, map[string][2]int64{"b1#p1": {gib, 1}})
	})
}

// claimed checks each pool's claim totals: bytes and volumes.
func claimed(t *testing.T, s *store.Store, want map[string][2]int64) {
	t.Helper()
	pools, err := s.Pools(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][2]int64{}
	for _, p := range pools {
		got[p.Key().String()] = [2]int64{p.ClaimedBytes, p.ClaimedVolumes}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("claims (-want +got):\n%s", diff)
	}
}

func TestRecountClaims(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		s := db.Open(t)
		ctx := t.Context()
		report(t, s, "b", "p", 10*gib, 1)
		v := addVolume(t, s, "p", 3)
		if _, err := s.Place(ctx, store.PlaceRequest{VolumeID: v.ID, FlowID: "f", Bytes: 3 * gib}, firstFit(3*gib)); err != nil {
			t.Fatal(err)
		}
		db.Exec(t, "UPDATE pools SET claimed_bytes = 1, claimed_volumes = 5")
		drift, err := s.RecountClaims(ctx)
		want := []store.ClaimDrift{{Backend: "b", Pool: "p", ClaimedBytes: 1, CountedBytes: 3 * gib, ClaimedVolumes: 5, CountedVolumes: 1}}
		if err != nil || !cmp.Equal(want, drift) {
			t.Fatalf("RecountClaims: %v\n%s", err, cmp.Diff(want, drift))
		}
		claimed(t, s, map[string][2]int64{"b#p": {3 * gib, 1}})
		if drift, err := s.RecountClaims(ctx); err != nil || len(drift) != 0 {
			t.Fatalf("second recount: %+v, %v", drift, err)
		}
	})
}

// TestVacatingTransitionsReleaseClaims: a create that fails, is rescheduled or is discarded
// gives its pool back in the same transaction.
func TestVacatingTransitionsReleaseClaims(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		s := db.Open(t)
		report(t, s, "b", "p", 10*gib, 1)
		for _, tr := range []volume.Transition{volume.CreateFailed, volume.Reschedule, volume.Discard, volume.CreateDone} {
			v := addVolume(t, s, "p", 2)
			if _, err := s.Place(t.Context(), store.PlaceRequest{VolumeID: v.ID, FlowID: "f", Bytes: 2 * gib}, firstFit(2*gib)); err != nil {
				t.Fatal(err)
			}
			if _, err := s.TransitionVolume(t.Context(), store.AllProjects(), v.ID, tr, store.VolumeChange{}); err != nil {
				t.Fatal(err)
			}
			want := [2]int64{0, 0}
			if !tr.Vacates() {
				want = [2]int64{2 * gib, 1}
			}
			claimed(t, s, map[string][2]int64{"b#p": want})
			if err := s.ReleaseClaims(t.Context(), v.ID); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestSetBackendDown(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		s := db.Open(t)
		report(t, s, "b1", "p", 10*gib, 1)
		report(t, s, "b2", "q", 10*gib, 1)
		if err := s.SetBackendDown(t.Context(), "b1", "driver exited"); err != nil {
			t.Fatal(err)
		}
		pools, err := s.Pools(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pools {
			down := p.Report.State == sdk.PoolDown
			if down != (p.Backend == "b1") || (down && p.Report.StateReason != "driver exited") {
				t.Errorf("pool %s: state %v (%q)", p.Key(), p.Report.State, p.Report.StateReason)
			}
		}
		report(t, s, "b1", "p", 10*gib, 2) // the driver reports again
		pools, _ = s.Pools(t.Context())
		if pools[0].Report.State != sdk.PoolUp {
			t.Errorf("after a new report: %v", pools[0].Report.State)
		}
	})
}
