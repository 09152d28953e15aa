package scheduler

import "math"

// autoInitialRatio is Cinder's INITIAL_AUTO_MOSR: the 'auto' ratio of a pool with nothing
// provisioned yet.
const autoInitialRatio = 20

// Capacity is a pool's capacity arithmetic for one provisioning type, in bytes. It is the one
// formula behind CapacityFilter, CapacityWeigher and the pools view: Cinder's
// calculate_capacity_factors (cinder.md §2.4) with §9 item 3's fix, which bounds thin
// provisioning by the real free space as well:
//
//	R = ⌈T·reserved%⌉                 reserved bytes
//	M = max over-subscription ratio   (1 for thick)
//	A = (T − R)·M                     total available
//	V = min(A − P, (F − R)·M)         headroom: the largest volume that fits
//
// where T, F are the reported total and free bytes and P the provisioned bytes (the larger of
// the driver's figure and the claim ledger's). For thick, V = min(T − R − P, F − R).
type Capacity struct {
	// Unbounded is set when the pool reports infinite or unknown capacity; Ratio is then 1,
	// the other fields are zero, and the pool takes any size (Cinder's rule).
	Unbounded bool
	// Thin is set when thin arithmetic applies: the pool supports thin provisioning and the
	// request does not ask for thick.
	Thin bool
	// Ratio is M.
	Ratio float64
	// Total, Reserved and Provisioned are T, R and P.
	Total       int64
	Reserved    int64
	Provisioned int64
	// Available is A, the capacity that may be provisioned in all.
	Available int64
	// Physical is (F − R)·M: what the unreserved free space can back at ratio M.
	Physical int64
	// Headroom is V; negative when the pool is over-committed.
	Headroom int64
}

// Capacity computes the pool's capacity for a request of the given provisioning.
func (p *Pool) Capacity(prov Provisioning) Capacity {
	if p.Infinite || p.Unknown {
		return Capacity{Unbounded: true, Ratio: 1}
	}
	c := Capacity{
		Thin:        p.Thin && prov != ProvisionThick,
		Ratio:       1,
		Total:       p.TotalBytes,
		Reserved:    reserve(p.TotalBytes, p.reservedPercent()),
		Provisioned: p.provisioned(),
	}
	if c.Thin {
		c.Ratio = p.ratio()
	}
	c.Available = scale(c.Total-c.Reserved, c.Ratio)
	c.Physical = scale(p.FreeBytes-c.Reserved, c.Ratio)
	c.Headroom = min(sub(c.Available, c.Provisioned), c.Physical)
	return c
}

// FreePercent is Cinder's free_percent, V/A·100 (0 when A is 0).
func (c Capacity) FreePercent() float64 {
	if c.Available == 0 {
		return 0
	}
	return float64(c.Headroom) / float64(c.Available) * 100
}

// ProvisionedRatio is Cinder's provisioned_ratio, P/A (0 when A is 0).
func (c Capacity) ProvisionedRatio() float64 {
	if c.Available == 0 {
		return 0
	}
	return float64(c.Provisioned) / float64(c.Available)
}

// provisioned is P: the driver's provisioned bytes, or the ledger's when larger (the ledger
// runs ahead of the report between two reports).
func (p *Pool) provisioned() int64 { return max(p.ProvisionedBytes, p.AllocatedBytes) }

// reservedPercent is ReservedPercent clamped to 0–100.
func (p *Pool) reservedPercent() int64 { return int64(min(max(p.ReservedPercent, 0), 100)) }

// ratio is Cinder's calculate_max_over_subscription_ratio: 1 without thin support or with
// unbounded capacity; for 'auto', 1 + P/(T − F + 1 GiB), or 20 while nothing is provisioned.
func (p *Pool) ratio() float64 {
	if !p.Thin || p.Infinite || p.Unknown {
		return 1
	}
	if !p.MaxOversubscription.Auto {
		return p.MaxOversubscription.value()
	}
	prov := p.provisioned()
	if prov == 0 {
		return autoInitialRatio
	}
	used := max(p.TotalBytes-p.FreeBytes, 0)
	return 1 + float64(prov)/(float64(used)+GiB)
}

// reserve is ⌈t·pct/100⌉ in exact integer arithmetic; 0 for t ≤ 0.
func reserve(t, pct int64) int64 {
	if t <= 0 {
		return 0
	}
	return t/100*pct + (t%100*pct+99)/100
}

// scale is ⌊x·m⌋, saturated to the int64 range.
func scale(x int64, m float64) int64 {
	if m == 1 {
		return x
	}
	f := math.Floor(float64(x) * m)
	switch {
	case f != f:
		return 0
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return int64(f)
}

// sub is a − b, saturated to the int64 range.
func sub(a, b int64) int64 {
	d := a - b
	if (b > 0 && d > a) || (b < 0 && d < a) {
		if b > 0 {
			return math.MinInt64
		}
		return math.MaxInt64
	}
	return d
}
