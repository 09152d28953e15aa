package scheduler

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// ranked runs Pick with no filter and the weighers, and returns the pools' indexes best first
// and their weights by index.
func ranked(t *testing.T, cfg Config, pools []Pool, req Request) ([]int, map[int]float64) {
	t.Helper()
	cfg.Filters = []string{}
	d, err := Pick(cfg, pools, req)
	if err != nil {
		t.Fatalf("Pick: %v", err)
	}
	order, weights := []int{}, map[int]float64{}
	for _, w := range d.Pools {
		order = append(order, w.Index)
		weights[w.Index] = w.Weight
	}
	return order, weights
}

// thickPool is a thick pool whose headroom is free GiB.
func thickPool(free int64) Pool {
	return Pool{TotalBytes: 1000 * GiB, FreeBytes: free * GiB, Thick: true}
}

// TestWeighers pins each weigher and base_weight's min-max normalization (cinder.md §2.6):
// norm = (raw − min)/(max − min), all 0 when equal; weight = Σ multiplier × norm; heaviest
// first, ties in input order.
func TestWeighers(t *testing.T) {
	capacity := func(m float64) []Weigher { return []Weigher{{Name: weigherCapacity, Multiplier: m}} }
	unbounded := Pool{Infinite: true}
	tests := []struct {
		name     string
		weighers []Weigher
		pools    []Pool
		req      Request
		order    []int
		weights  map[int]float64
	}{{
		// Headroom 10, 20, 30 GiB: norm 0, 0.5, 1.
		name: "capacity spreads", weighers: capacity(0),
		pools: []Pool{thickPool(10), thickPool(20), thickPool(30)},
		order: []int{2, 1, 0}, weights: map[int]float64{0: 0, 1: 0.5, 2: 1},
	}, {
		name: "capacity stacks with a negative multiplier", weighers: capacity(-1),
		pools: []Pool{thickPool(10), thickPool(20), thickPool(30)},
		order: []int{0, 1, 2}, weights: map[int]float64{0: 0, 1: -0.5, 2: -1},
	}, {
		name: "all equal weigh 0, ties in input order", weighers: capacity(1),
		pools: []Pool{thickPool(10), thickPool(10), thickPool(10)},
		order: []int{0, 1, 2}, weights: map[int]float64{0: 0, 1: 0, 2: 0},
	}, {
		// Multiplier > 0: unbounded is −1 (GiB): raw −1, 10, 20 → norm 0, 11/21, 1.
		name: "unbounded last, positive multiplier", weighers: capacity(1),
		pools: []Pool{unbounded, thickPool(10), thickPool(20)},
		order: []int{2, 1, 0}, weights: map[int]float64{0: 0, 1: 11.0 / 21, 2: 1},
	}, {
		// Multiplier < 0: unbounded is +inf, replaced by max + (max − min)·100 = 20 + 1000:
		// raw 1020, 10, 20 → norm 1, 0, 10/1010 → ×−1.
		name: "unbounded last, negative multiplier", weighers: capacity(-1),
		pools: []Pool{unbounded, thickPool(10), thickPool(20)},
		order: []int{1, 2, 0}, weights: map[int]float64{0: -1, 1: 0, 2: -10.0 / 1010},
	}, {
		// The others equal: the offset is OFFSET_MIN; raw 10010, 10, 10 → norm 1, 0, 0.
		name: "unbounded, others equal", weighers: capacity(-1),
		pools: []Pool{unbounded, thickPool(10), thickPool(10)},
		order: []int{1, 2, 0}, weights: map[int]float64{0: -1, 1: 0, 2: 0},
	}, {
		// Every pool unbounded under a negative multiplier: Cinder raises (max of nothing).
		name: "all unbounded", weighers: capacity(-1),
		pools: []Pool{unbounded, unbounded},
		order: []int{0, 1}, weights: map[int]float64{0: 0, 1: 0},
	}, {
		// Thin pool: headroom min(100·20, 50·20) = 1000 GiB, above the thick pool's 60.
		name: "capacity, thin arithmetic", weighers: capacity(1),
		pools: []Pool{thickPool(60), {TotalBytes: 100 * GiB, FreeBytes: 50 * GiB, Thin: true, Thick: true}},
		order: []int{1, 0}, weights: map[int]float64{0: 0, 1: 1},
	}, {
		// The same pools for a thick volume: the thin pool's headroom is min(100, 50) = 50.
		name: "capacity, thick request", weighers: capacity(1), req: Request{Provisioning: ProvisionThick},
		pools: []Pool{thickPool(60), {TotalBytes: 100 * GiB, FreeBytes: 50 * GiB, Thin: true, Thick: true}},
		order: []int{0, 1}, weights: map[int]float64{0: 1, 1: 0},
	}, {
		// Default −1: allocated 100, 50, 0 GiB → norm 1, 0.5, 0 → least allocated wins.
		name: "allocated capacity", weighers: []Weigher{{Name: weigherAllocated}},
		pools: []Pool{{AllocatedBytes: 100 * GiB}, {AllocatedBytes: 50 * GiB}, {}},
		order: []int{2, 1, 0}, weights: map[int]float64{0: -1, 1: -0.5, 2: 0},
	}, {
		// Default −1: 5, 1, 3 volumes → norm 1, 0, 0.5 → fewest wins.
		name: "volume number", weighers: []Weigher{{Name: weigherVolumes}},
		pools: []Pool{{Volumes: 5}, {Volumes: 1}, {Volumes: 3}},
		order: []int{1, 2, 0}, weights: map[int]float64{0: -1, 1: 0, 2: -0.5},
	}, {
		// Ratings 50, 100 (True), 0 (none), 0 (error) → norm 0.5, 1, 0, 0.
		name: "goodness", weighers: []Weigher{{Name: weigherGoodness}},
		pools: []Pool{{GoodnessFunction: "50"}, {GoodnessFunction: "1 == 1"}, {}, {GoodnessFunction: "1 +"}},
		order: []int{1, 0, 2, 3}, weights: map[int]float64{0: 0.5, 1: 1, 2: 0, 3: 0},
	}, {
		// Capacity ×2 + allocated ×−1. Capacity norm: 0, 1, 0.5; allocated norm: 0, 1, 0.5.
		// Weights: 0, 2 − 1 = 1, 1 − 0.5 = 0.5.
		name:     "combined",
		weighers: []Weigher{{Name: weigherCapacity, Multiplier: 2}, {Name: weigherAllocated}},
		pools: []Pool{
			{TotalBytes: 1000 * GiB, FreeBytes: 10 * GiB, Thick: true},
			{TotalBytes: 1000 * GiB, FreeBytes: 30 * GiB, AllocatedBytes: 100 * GiB, Thick: true},
			{TotalBytes: 1000 * GiB, FreeBytes: 20 * GiB, AllocatedBytes: 50 * GiB, Thick: true},
		},
		order: []int{1, 2, 0}, weights: map[int]float64{0: 0, 1: 1, 2: 0.5},
	}, {
		name: "no weighers", weighers: []Weigher{},
		pools: []Pool{thickPool(10), thickPool(30)},
		order: []int{0, 1}, weights: map[int]float64{0: 0, 1: 0},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			order, weights := ranked(t, Config{Weighers: tt.weighers}, tt.pools, tt.req)
			if diff := cmp.Diff(tt.order, order); diff != "" {
				t.Errorf("order (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.weights, weights, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
				t.Errorf("weights (-want +got):\n%s", diff)
			}
		})
	}
}

// TestChanceWeigher: the raw values are the source's draws, normalized.
func TestChanceWeigher(t *testing.T) {
	pools := []Pool{{}, {}, {}}
	cfg := Config{Weighers: []Weigher{{Name: weigherChance}}, Rand: rand.New(rand.NewPCG(1, 2))}
	_, weights := ranked(t, cfg, pools, Request{})
	src := rand.New(rand.NewPCG(1, 2))
	raw := []float64{src.Float64(), src.Float64(), src.Float64()}
	lo, hi := min(raw[0], raw[1], raw[2]), max(raw[0], raw[1], raw[2])
	want := map[int]float64{}
	for i, r := range raw {
		want[i] = (r - lo) / (hi - lo)
	}
	if diff := cmp.Diff(want, weights, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
		t.Errorf("weights (-want +got):\n%s", diff)
	}
}

// TestTopK: with TopK = k the choice is drawn uniformly among the k best, reproducibly from
// the injected source; the other pools keep their weight order.
func TestTopK(t *testing.T) {
	var pools []Pool
	for i := range 10 {
		pools = append(pools, thickPool(int64(10*(i+1)))) // pool 9 is the best
	}
	best := []int{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}
	cfg := Config{TopK: 3, Rand: rand.New(rand.NewPCG(7, 11))}
	src := rand.New(rand.NewPCG(7, 11))
	seen := map[int]int{}
	for range 300 {
		d, err := Pick(cfg, pools, Request{Size: GiB})
		if err != nil {
			t.Fatal(err)
		}
		want := best[src.IntN(3)]
		got := []int{}
		for _, w := range d.Pools {
			got = append(got, w.Index)
		}
		if got[0] != want {
			t.Fatalf("choice = %d, want %d (the same draw from the same seed)", got[0], want)
		}
		rest := slices.DeleteFunc(slices.Clone(best), func(i int) bool { return i == want })
		if diff := cmp.Diff(rest, got[1:]); diff != "" {
			t.Fatalf("the others (-want +got):\n%s", diff)
		}
		seen[want]++
	}
	if len(seen) != 3 || seen[9] < 70 || seen[8] < 70 || seen[7] < 70 {
		t.Errorf("choices %v: want each of 9, 8, 7 about a third of the time", seen)
	}
	for _, k := range []int{0, 1} {
		d, _ := Pick(Config{TopK: k, Rand: rand.New(rand.NewPCG(1, 1))}, pools, Request{Size: GiB})
		if d.Pools[0].Index != 9 {
			t.Errorf("TopK %d: choice %d, want the best, 9", k, d.Pools[0].Index)
		}
	}
	d, _ := Pick(Config{TopK: 50}, pools[:2], Request{Size: GiB}) // k beyond the pools
	if len(d.Pools) != 2 {
		t.Errorf("TopK 50 over 2 pools: %d pools", len(d.Pools))
	}
}
