package drivertest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/kilnstorage/kiln/sdk"
)

// parallel is how many calls the concurrency clauses run at once.
const parallel = 8

// cancelGrace is how long after its context ends a call may take to return.
const cancelGrace = 2 * time.Second

func concurrencyClauses(t *testing.T, k *kit) {
	k.clause(t, "K1/same-id-parallel", func(t *testing.T) {
		k.needMeasurable(t)
		before := k.poolNow(t)
		req := k.request(k.size)
		vols, errs := k.createAll(t, func(int) sdk.CreateVolumeRequest { return req })
		for i, err := range errs {
			if err != nil {
				t.Errorf("create %d of %d with one ID: %v", i+1, parallel, err)
			} else if !sameMap(vols[i].ProviderData, vols[0].ProviderData) {
				t.Errorf("create %d returned provider data %v, create 1 %v", i+1, vols[i].ProviderData, vols[0].ProviderData)
			}
		}
		after := k.poolNow(t)
		if grown := after.ProvisionedBytes - before.ProvisionedBytes; grown > k.size+k.slack {
			t.Errorf("%d parallel creates of one ID provisioned %d bytes, one volume is %d", parallel, grown, k.size)
		}
		if n := k.countListed(t, req.ID); n == 0 {
			t.Errorf("volume %s is not listed", req.ID)
		}
	})
	k.clause(t, "K2/distinct-ids-parallel", func(t *testing.T) {
		_, errs := k.createAll(t, func(int) sdk.CreateVolumeRequest { return k.request(k.size) })
		for i, err := range errs {
			if err != nil {
				t.Errorf("parallel create %d: %v", i+1, err)
			}
		}
	})
}

// createAll runs parallel creates at once and registers every created volume for cleanup.
func (k *kit) createAll(t *testing.T, req func(int) sdk.CreateVolumeRequest) ([]sdk.Volume, []error) {
	vols, errs := make([]sdk.Volume, parallel), make([]error, parallel)
	var wg sync.WaitGroup
	for i := range parallel {
		r := req(i)
		t.Cleanup(func() { _ = k.client.DeleteVolume(ctx(t), sdk.VolumeRef{ID: r.ID, Pool: r.Pool}) })
		wg.Go(func() { vols[i], errs[i] = k.client.CreateVolume(ctx(t), r) })
	}
	wg.Wait()
	return vols, errs
}

func cancellationClauses(t *testing.T, k *kit) {
	k.clause(t, "Z1/cancel-mid-create", func(t *testing.T) {
		// A normal create gives the driver's own latency to compare against.
		start := time.Now()
		k.create(t, k.request(k.size))
		normal := time.Since(start)

		req := k.request(k.size)
		t.Cleanup(func() { _ = k.client.DeleteVolume(ctx(t), sdk.VolumeRef{ID: req.ID, Pool: req.Pool}) })
		const deadline = 20 * time.Millisecond
		c, cancel := context.WithTimeout(context.Background(), deadline)
		start = time.Now()
		_, err := k.client.CreateVolume(c, req)
		took := time.Since(start)
		cancel()
		if took > deadline+cancelGrace {
			t.Errorf("CreateVolume returned (%v) %v after its context ended at %v: the driver ignores cancellation", err, took.Round(time.Millisecond), deadline)
		}
		cancelledMidCall := err != nil
		// Over a wire the caller returns at its deadline whatever the driver does; a driver
		// that goes on keeps the ID busy, and the repairing call waits for it.
		start = time.Now()
		v, err := k.client.CreateVolume(ctx(t), req)
		repair := time.Since(start)
		if err != nil {
			t.Fatalf("CreateVolume after a cancelled attempt: %v", err)
		}
		if repair > normal+cancelGrace {
			t.Errorf("the create after a cancelled one took %v, a normal create %v: the cancelled call kept running, so the driver ignores cancellation", repair.Round(time.Millisecond), normal.Round(time.Millisecond))
		}
		k.remove(t, v)
		if !cancelledMidCall {
			t.Skipf("the create finished within %v, before its context ended: nothing was cancelled mid-call (a driver with slower creates exercises this clause)", deadline)
		}
	})
}

func restartClauses(t *testing.T, k *kit) {
	k.clause(t, "R1/volumes-survive-restart", func(t *testing.T) {
		req := k.request(k.size)
		v := k.create(t, req)
		k.restart(t)
		if k.caps().Inspect {
			got, err := k.client.GetVolume(ctx(t), v.Ref())
			if err != nil || got.SizeBytes != v.SizeBytes || !sameMap(got.ProviderData, v.ProviderData) {
				t.Errorf("after a restart GetVolume = %+v, %v; before %+v", got, err, v)
			}
		}
		if n := k.countListed(t, v.ID); n == 0 {
			t.Errorf("after a restart volume %s is not listed", v.ID)
		}
		again, err := k.client.CreateVolume(ctx(t), req)
		if err != nil || !sameMap(again.ProviderData, v.ProviderData) {
			t.Errorf("after a restart the same create = %+v, %v; before %+v", again, err, v)
		}
		k.remove(t, v)
	})
}

func cleanlinessClauses(t *testing.T, k *kit) {
	k.clause(t, "L2/shutdown-drains", func(t *testing.T) {
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		abandoned, err := k.client.Shutdown(c)
		if err != nil || abandoned != 0 {
			t.Fatalf("Shutdown = %d calls abandoned, %v; want a clean drain and Close", abandoned, err)
		}
		_, err = k.client.Capacity(ctx(t))
		var e *sdk.Error
		if !errors.As(err, &e) || e.Reason != "SHUTTING_DOWN" {
			t.Errorf("a call after Shutdown: %v, want Unavailable SHUTTING_DOWN", err)
		}
		k.restart(t) // L1 still needs a driver
	})
	k.clause(t, "L1/nothing-left", func(t *testing.T) {
		k.need(t, k.caps().List, "ListVolumes")
		for id := range k.listed(t) {
			if _, ours := k.created.Load(id); ours {
				t.Errorf("volume %s created by the kit is still there", id)
			}
		}
	})
}
