package store_test

import (
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kilnstorage/kiln/host/flow"
	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/store/storetest"
)

func TestExpireReservations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		var mu sync.Mutex
		s := db.Open(t, store.WithClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now }))
		ctx := t.Context()
		for flowID, ttl := range map[string]time.Duration{"short": time.Minute, "long": time.Hour, "never": 0} {
			if err := s.Reserve(ctx, store.Reservation{FlowID: flowID, ProjectID: "p", Deltas: map[string]int64{"volumes": 1}, TTL: ttl}); err != nil {
				t.Fatal(err)
			}
		}
		mu.Lock()
		now = now.Add(2 * time.Minute)
		mu.Unlock()
		n, err := s.ExpireReservations(ctx)
		if err != nil || n != 1 {
			t.Fatalf("ExpireReservations = %d, %v; want 1", n, err)
		}
		if got := usage(t, s, "p", "volumes")["volumes"].Reserved; got != 2 {
			t.Errorf("reserved %d after expiry, want 2", got)
		}
	})
}

func TestCheckQuotasFindsAndFixesDrift(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		s := db.Open(t)
		ctx := t.Context()
		addVolume(t, s, "p", 2)
		if err := s.Reserve(ctx, store.Reservation{FlowID: "journaled", ProjectID: "p", Deltas: map[string]int64{"snapshots": 1}}); err != nil {
			t.Fatal(err)
		}
		if err := s.Journal("host1").Save(ctx, flow.Entry{ID: "journaled", Flow: "f"}); err != nil {
			t.Fatal(err)
		}
		if err := s.Reserve(ctx, store.Reservation{FlowID: "orphan", ProjectID: "p", Deltas: map[string]int64{"volumes": 1}}); err != nil {
			t.Fatal(err)
		}
		checkClean(t, s)
		db.Exec(t, "UPDATE quota_usages SET in_use = 7 WHERE resource = 'volumes'")
		db.Exec(t, "UPDATE quota_usages SET reserved = 0 WHERE resource = 'snapshots'")
		db.Exec(t, "DELETE FROM quota_usages WHERE resource = 'gigabytes___DEFAULT__'")
		rep, err := s.CheckQuotas(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		want := store.QuotaReport{
			Drifts: []store.QuotaDrift{
				{ProjectID: "p", Resource: "gigabytes___DEFAULT__", Counted: 2},
				{ProjectID: "p", Resource: "snapshots", Held: 1},
				{ProjectID: "p", Resource: "volumes", InUse: 7, Counted: 1, Reserved: 1, Held: 1},
			},
			Orphans: []store.Reservation{{FlowID: "orphan", ProjectID: "p", Deltas: map[string]int64{"volumes": 1}}},
		}
		if diff := cmp.Diff(want, rep); diff != "" {
			t.Fatalf("report (-want +got):\n%s", diff)
		}
		if _, err := s.CheckQuotas(ctx, true); err != nil {
			t.Fatal(err)
		}
		checkClean(t, s)
		// The fix rolled the orphan back; the journaled flow's reservation stays.
		rep, err = s.CheckQuotas(ctx, false)
		if err != nil || len(rep.Orphans) != 0 || len(rep.Drifts) != 0 {
			t.Errorf("after the fix: %+v, %v", rep, err)
		}
		u, err := s.QuotaUsage(ctx, "p")
		if err != nil || u[store.Volumes].Reserved != 0 || u[store.Snapshots].Reserved != 1 {
			t.Errorf("reserved after the fix: %+v, %v", u, err)
		}
	})
}
