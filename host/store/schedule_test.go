package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/kilnstorage/kiln/host/scheduler"
	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/store/storetest"
	"github.com/kilnstorage/kiln/sdk"
)

// schedule is a Decide that runs the real scheduler, with its default filters and weighers,
// over the pools as the transaction sees them.
func schedule(bytes int64) store.Decide {
	return func(candidates []store.PoolState) (store.PoolKey, error) {
		now := time.Now()
		pools := make([]scheduler.Pool, len(candidates))
		for i, c := range candidates {
			pools[i] = c.SchedulerPool(now)
		}
		d, err := scheduler.Pick(scheduler.Config{}, pools, scheduler.Request{Size: bytes,
			Provisioning: scheduler.ProvisionThick})
		if err != nil {
			return store.PoolKey{}, err
		}
		best := d.Pools[0].Pool
		return store.PoolKey{Backend: best.Backend, Pool: best.Name}, nil
	}
}

// TestConcurrentSchedulersNeverOvercommit races 32 real schedulers, on two hosts, placing
// 1 GiB thick volumes into two pools that hold 15 between them: exactly 15 are placed, the
// others get the scheduler's "no valid pool", and no pool is over-committed.
func TestConcurrentSchedulersNeverOvercommit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		s, errs := racePlacements(t, db, schedule(gib))
		if ok := tally(t, errs, scheduler.ErrNoValidPool); ok != 15 {
			t.Fatalf("%d of %d placements succeeded, want 15", ok, workers)
		}
		pools, err := s.Pools(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pools {
			if p.ClaimedBytes > p.Report.TotalBytes {
				t.Errorf("pool %s over-committed: %d bytes claimed of %d", p.Key(), p.ClaimedBytes, p.Report.TotalBytes)
			}
		}
		var nv *scheduler.NoValidPoolError
		for _, err := range errs {
			if err != nil && !errors.As(err, &nv) {
				t.Errorf("a refusal without the scheduler's explanation: %v", err)
			}
		}
	})
}

func TestSchedulerPool(t *testing.T) {
	now := time.Now()
	p := store.PoolState{Backend: "b", AvailabilityZone: "az1", ReservedPercentage: 10,
		Report: sdk.Pool{Name: "p", State: sdk.PoolDegraded, TotalBytes: 100, FreeBytes: 60, Thin: true,
			MaxOversubscription: 4, Features: &sdk.FeatureSet{Snapshots: true, Clone: true, Protocols: []string{"file"}},
			Attributes: map[string]sdk.Attribute{"iops": sdk.IntAttr(5000, "")}},
		Info: store.BackendInfo{VolumeBackendName: "gold"}, ClaimedBytes: 30, ClaimedVolumes: 3,
		ReceivedAt: now.Add(-time.Minute)}
	got := p.SchedulerPool(now)
	if got.Zone != "az1" || got.State != scheduler.PoolDegraded || got.Age != time.Minute ||
		got.AllocatedBytes != 30 || got.Volumes != 3 || got.ReservedPercent != 10 ||
		got.MaxOversubscription != (scheduler.Ratio{Value: 4}) || got.VolumeBackendName != "gold" ||
		!got.Features.Has(scheduler.FeatureSnapshots|scheduler.FeatureClone) || got.Features.Has(scheduler.FeatureExtend) ||
		got.Attributes["iops"].Int != 5000 || len(got.Protocols) != 1 {
		t.Errorf("SchedulerPool = %+v", got)
	}
	p.MaxOverSubscriptionRatio = "auto" // the operator's setting wins over the driver's hint
	if r := p.SchedulerPool(now).MaxOversubscription; !r.Auto {
		t.Errorf("ratio = %+v, want auto", r)
	}
}
