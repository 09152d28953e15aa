package scheduler

import (
	"cmp"
	"math"
	"slices"
)

// Weighed is a pool that passed every filter, with its weight.
type Weighed struct {
	// Pool points into the slice given to Pick.
	Pool *Pool
	// Index is the pool's position in the slice given to Pick.
	Index int
	// Weight is the sum over the weighers of multiplier × normalized value.
	Weight float64
}

// Cinder's CapacityWeigher constants (weights/capacity.py), in bytes: an unbounded pool weighs
// −1 GiB under a positive multiplier, or max + offset under a negative one, where the offset
// is 100 × the spread of the others, or 10 000 GiB when they are all equal.
const (
	unboundedLow = -GiB
	offsetMin    = 10000 * GiB
	offsetMult   = 100
)

// weigh weighs the passing pools as Cinder's OrderedHostWeightHandler does (cinder.md §2.6):
// each weigher's raw values are normalized to [0, 1] by min-max over the pools (all 0 when
// they are all equal), multiplied, and summed.
func weigh(cfg Config, pools []Pool, alive []int32, req *Request) []Weighed {
	out := make([]Weighed, len(alive))
	for i, idx := range alive {
		out[i] = Weighed{Pool: &pools[idx], Index: int(idx)}
	}
	raw := make([]float64, len(out))
	var progs programs
	for _, w := range cfg.weighers() {
		m := w.multiplier()
		switch w.Name {
		case weigherCapacity:
			capacityRaw(out, raw, req.provisioning(), m)
		case weigherAllocated:
			fill(out, raw, func(p *Pool) float64 { return float64(p.AllocatedBytes) })
		case weigherVolumes:
			fill(out, raw, func(p *Pool) float64 { return float64(p.Volumes) })
		case weigherGoodness:
			fill(out, raw, func(p *Pool) float64 { return goodness(p, req, &progs) })
		case weigherChance:
			fill(out, raw, func(*Pool) float64 { return cfg.float64() })
		}
		addNormalized(out, raw, m)
	}
	return out
}

func fill(out []Weighed, raw []float64, f func(*Pool) float64) {
	for i := range out {
		raw[i] = f(out[i].Pool)
	}
}

// capacityRaw is CapacityWeigher: the headroom (Pool.Capacity); an unbounded pool gets the
// lowest weight whatever the multiplier's sign.
func capacityRaw(out []Weighed, raw []float64, prov Provisioning, m float64) {
	infinite := false
	for i := range out {
		c := out[i].Pool.Capacity(prov)
		switch {
		case !c.Unbounded:
			raw[i] = float64(c.Headroom)
		case m > 0:
			raw[i] = unboundedLow
		default:
			raw[i], infinite = math.Inf(1), true
		}
	}
	if infinite {
		replaceInfinite(raw)
	}
}

// replaceInfinite replaces +Inf by the finite maximum plus an offset. When every value is
// infinite they are all equal and weigh 0 (Cinder raises ValueError there: max of nothing).
func replaceInfinite(raw []float64) {
	lo, hi, finite := math.Inf(1), math.Inf(-1), false
	for _, v := range raw {
		if !math.IsInf(v, 1) {
			lo, hi, finite = min(lo, v), max(hi, v), true
		}
	}
	if !finite {
		clear(raw)
		return
	}
	offset := (hi - lo) * offsetMult
	if offset == 0 {
		offset = offsetMin
	}
	for i, v := range raw {
		if math.IsInf(v, 1) {
			raw[i] = hi + offset
		}
	}
}

// goodness is GoodnessWeigher: the pool's goodness_function rated 0–100; 0 without a
// function or when it fails.
func goodness(p *Pool, req *Request, progs *programs) float64 {
	if p.GoodnessFunction == "" {
		return 0
	}
	prog, err := progs.get(p.GoodnessFunction)
	if err != nil {
		return 0
	}
	e := env{p: p, req: req}
	r, _ := prog.goodness(&e)
	return r
}

// addNormalized adds m × (raw − min)/(max − min) to each weight: Cinder's base_weight.normalize,
// under which equal values all weigh 0.
func addNormalized(out []Weighed, raw []float64, m float64) {
	if len(raw) == 0 {
		return
	}
	lo, hi := slices.Min(raw), slices.Max(raw)
	if lo == hi {
		return
	}
	for i, v := range raw {
		out[i].Weight += m * (v - lo) / (hi - lo)
	}
}

// rank sorts by weight, heaviest first, ties in input order (Cinder's stable sort), then with
// TopK > 1 moves a pool drawn uniformly among the k best to the front, the others keeping
// their order.
func rank(cfg Config, ws []Weighed) {
	slices.SortFunc(ws, func(a, b Weighed) int {
		if c := cmp.Compare(b.Weight, a.Weight); c != 0 {
			return c
		}
		return cmp.Compare(a.Index, b.Index)
	})
	k := min(cfg.TopK, len(ws))
	if k <= 1 {
		return
	}
	i := cfg.intN(k)
	chosen := ws[i]
	copy(ws[1:i+1], ws[:i])
	ws[0] = chosen
}
