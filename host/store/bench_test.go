package store_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/store/storetest"
	"github.com/kilnstorage/kiln/host/volume"
)

// roomy lifts the limits the benchmarks would otherwise exhaust, keeping them finite so that
// every operation still checks them.
func roomy(b *testing.B, s *store.Store) {
	err := s.SetQuotaLimits(b.Context(), "p", store.Limits{store.Volumes: 1 << 40, store.Gigabytes: 1 << 40,
		store.Snapshots: 1 << 40})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkReserveCommit is a volume create's quota work: Reserve, then CreateVolume, which
// inserts the row and commits the reservation in one transaction.
func BenchmarkReserveCommit(b *testing.B) {
	storetest.EachB(b, func(b *testing.B, db storetest.DB) {
		s := db.Open(b)
		roomy(b, s)
		ctx := b.Context()
		i := 0
		for b.Loop() {
			flowID := fmt.Sprint("f", i)
			i++
			if err := s.Reserve(ctx, store.Reservation{FlowID: flowID, ProjectID: "p", Deltas: store.VolumeDeltas(def, gib)}); err != nil {
				b.Fatal(err)
			}
			if _, err := s.CreateVolume(ctx, store.Volume{ProjectID: "p", UserID: "u", SizeBytes: gib}, flowID); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkReserveRollback is Reserve then RollbackReservations: the quota tables alone.
func BenchmarkReserveRollback(b *testing.B) {
	storetest.EachB(b, func(b *testing.B, db storetest.DB) {
		s := db.Open(b)
		roomy(b, s)
		ctx := b.Context()
		i := 0
		for b.Loop() {
			flowID := fmt.Sprint("f", i)
			i++
			if err := s.Reserve(ctx, store.Reservation{FlowID: flowID, ProjectID: "p", Deltas: store.VolumeDeltas(def, gib)}); err != nil {
				b.Fatal(err)
			}
			if err := s.RollbackReservations(ctx, flowID); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkTransition is one status compare-and-swap per operation (available ⇄ extending).
func BenchmarkTransition(b *testing.B) {
	storetest.EachB(b, func(b *testing.B, db storetest.DB) {
		s := db.Open(b)
		v := addVolume(b, s, "p", 1)
		place(b, s, v.ID, "b", "pool")
		ctx := b.Context()
		trs := [2]volume.Transition{volume.ExtendBegin, volume.ExtendNoValidBackend}
		i := 0
		for b.Loop() {
			if _, err := s.TransitionVolume(ctx, store.AllProjects(), v.ID, trs[i%2], store.VolumeChange{}); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkTransitionParallel is BenchmarkTransition from GOMAXPROCS×4 goroutines, each on
// its own volume: how writers queue.
func BenchmarkTransitionParallel(b *testing.B) {
	storetest.EachB(b, func(b *testing.B, db storetest.DB) {
		s := db.Open(b)
		roomy(b, s)
		var next atomic.Int64
		vols := make([]string, 256)
		for i := range vols {
			v := addVolume(b, s, "p", 1)
			place(b, s, v.ID, "b", "pool")
			vols[i] = v.ID
		}
		trs := [2]volume.Transition{volume.ExtendBegin, volume.ExtendNoValidBackend}
		b.SetParallelism(4)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			id := vols[next.Add(1)-1]
			for i := 0; pb.Next(); i++ {
				if _, err := s.TransitionVolume(b.Context(), store.AllProjects(), id, trs[i%2], store.VolumeChange{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// BenchmarkPlace is one placement per operation over n pools: load the candidates with their
// claims, decide (first fit), claim.
func BenchmarkPlace(b *testing.B) {
	for _, n := range []int{10, 1000} {
		b.Run(fmt.Sprint("pools=", n), func(b *testing.B) {
			storetest.EachB(b, func(b *testing.B, db storetest.DB) {
				s := db.Open(b)
				roomy(b, s)
				for i := range n {
					report(b, s, fmt.Sprint("b", i/10), fmt.Sprint("p", i), 1<<50, 1)
				}
				vols := make([]string, 100)
				for i := range vols {
					vols[i] = addVolume(b, s, "p", 1).ID
				}
				ctx := b.Context()
				decide := firstFit(gib)
				i := 0
				for b.Loop() {
					req := store.PlaceRequest{VolumeID: vols[i%len(vols)], FlowID: fmt.Sprint("f", i), Bytes: gib}
					if _, err := s.Place(ctx, req, decide); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
		})
	}
}

// BenchmarkPlaceParallel races GOMAXPROCS×4 schedulers over 10 pools, each picking the pool
// with the most room: contention on the ledger.
func BenchmarkPlaceParallel(b *testing.B) {
	storetest.EachB(b, func(b *testing.B, db storetest.DB) {
		s := db.Open(b)
		roomy(b, s)
		for i := range 10 {
			report(b, s, "b", fmt.Sprint("p", i), 1<<50, 1)
		}
		vols := make([]string, 100)
		for i := range vols {
			vols[i] = addVolume(b, s, "p", 1).ID
		}
		mostRoom := func(pools []store.PoolState) (store.PoolKey, error) {
			best := pools[0]
			for _, p := range pools[1:] {
				if p.Report.TotalBytes-p.ClaimedBytes > best.Report.TotalBytes-best.ClaimedBytes {
					best = p
				}
			}
			return best.Key(), nil
		}
		var next atomic.Int64
		b.SetParallelism(4)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := next.Add(1)
				req := store.PlaceRequest{VolumeID: vols[i%int64(len(vols))], FlowID: fmt.Sprint("f", i), Bytes: gib}
				if _, err := s.Place(b.Context(), req, mostRoom); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}
