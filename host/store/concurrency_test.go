package store_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/store/storetest"
)

// workers is how many goroutines race in each concurrency test; they are spread over two
// stores on one database, like two hosts.
const workers = 32

// race runs f(i, store) for i in [0, workers) at once over two stores sharing db, and returns
// the errors by i.
func race(t *testing.T, stores [2]*store.Store, f func(i int, s *store.Store) error) []error {
	errs := make([]error, workers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			<-start
			errs[i] = f(i, stores[i%2])
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// tally counts the nil errors and fails on any error that is not want.
func tally(t *testing.T, errs []error, want error) int {
	t.Helper()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, want):
			t.Errorf("unexpected error: %v", err)
		}
	}
	return ok
}

func TestConcurrentReservationsNeverExceedTheLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		stores := [2]*store.Store{db.Open(t), db.Open(t)}
		errs := race(t, stores, func(i int, s *store.Store) error {
			return s.Reserve(t.Context(), store.Reservation{FlowID: fmt.Sprint("flow-", i), ProjectID: "p",
				Deltas: store.VolumeDeltas(def, gib)})
		})
		if ok := tally(t, errs, store.ErrOverQuota); ok != 10 {
			t.Fatalf("%d of %d reservations succeeded, want 10 (the volumes quota)", ok, workers)
		}
		if got := usage(t, stores[0], "p", "volumes")["volumes"]; got.Reserved != 10 || got.InUse != 0 {
			t.Fatalf("usage after reserving: %+v", got)
		}
		errs = race(t, stores, func(i int, s *store.Store) error {
			if errs[i] != nil {
				return nil
			}
			_, err := s.CreateVolume(t.Context(), store.Volume{ProjectID: "p", UserID: "u", SizeBytes: gib}, fmt.Sprint("flow-", i))
			return err
		})
		tally(t, errs, nil)
		if got := usage(t, stores[0], "p", "volumes")["volumes"]; got.Reserved != 0 || got.InUse != 10 {
			t.Fatalf("usage after committing: %+v", got)
		}
		checkClean(t, stores[0])
	})
}

func TestConcurrentCreatesNeverExceedTheLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		stores := [2]*store.Store{db.Open(t), db.Open(t)}
		if err := stores[0].SetQuotaLimits(t.Context(), "p", store.Limits{store.Gigabytes: 21}); err != nil {
			t.Fatal(err)
		}
		errs := race(t, stores, func(i int, s *store.Store) error {
			_, err := s.CreateVolume(t.Context(), store.Volume{ProjectID: "p", UserID: "u", SizeBytes: 2 * gib}, "")
			return err
		})
		if ok := tally(t, errs, store.ErrOverQuota); ok != 10 {
			t.Fatalf("%d of %d creates succeeded, want 10 (21 GiB of 2 GiB volumes)", ok, workers)
		}
		checkClean(t, stores[0])
	})
}

var errNoValidBackend = errors.New("no valid backend")

// firstFit is a pure decision: the first pool with room for bytes after its claims.
func firstFit(bytes int64) store.Decide {
	return func(pools []store.PoolState) (store.PoolKey, error) {
		for _, p := range pools {
			if p.Report.TotalBytes-p.ClaimedBytes >= bytes {
				return p.Key(), nil
			}
		}
		return store.PoolKey{}, errNoValidBackend
	}
}

// TestConcurrentPlacementNeverOvercommits races 32 schedulers, on two hosts, for two pools
// that hold 15 of the volumes between them.
func TestConcurrentPlacementNeverOvercommits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		s, errs := racePlacements(t, db, firstFit(gib))
		if ok := tally(t, errs, errNoValidBackend); ok != 15 {
			t.Fatalf("%d of %d placements succeeded, want 15", ok, workers)
		}
		pools, err := s.Pools(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pools {
			if p.ClaimedBytes != p.Report.TotalBytes || p.ClaimedVolumes != p.Report.TotalBytes/gib {
				t.Errorf("pool %s: claimed %d bytes by %d volumes of %d bytes", p.Key(), p.ClaimedBytes, p.ClaimedVolumes, p.Report.TotalBytes)
			}
		}
		drift, err := s.RecountClaims(t.Context())
		if err != nil || len(drift) > 0 {
			t.Fatalf("claims drifted from their rows: %+v, %v", drift, err)
		}
	})
}

// racePlacements stores two pools that hold 15 volumes of 1 GiB between them (b1#small 5 GiB,
// b2#large 10 GiB) and races workers placements of 1 GiB volumes, decided by decide, on two
// stores sharing db. It returns the first store and the errors by worker.
func racePlacements(t *testing.T, db storetest.DB, decide store.Decide) (*store.Store, []error) {
	t.Helper()
	stores := [2]*store.Store{db.Open(t), db.Open(t)}
	s := stores[0]
	report(t, s, "b1", "small", 5*gib, 1)
	report(t, s, "b2", "large", 10*gib, 1)
	if err := s.SetQuotaLimits(t.Context(), "p", store.Limits{store.Volumes: -1}); err != nil {
		t.Fatal(err)
	}
	vols := make([]store.Volume, workers)
	for i := range vols {
		vols[i] = addVolume(t, s, "p", 1)
	}
	return s, race(t, stores, func(i int, s *store.Store) error {
		_, err := s.Place(t.Context(), store.PlaceRequest{VolumeID: vols[i].ID, FlowID: fmt.Sprint("flow-", i), Bytes: gib}, decide)
		return err
	})
}
