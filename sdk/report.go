package sdk

import (
	"context"
	"fmt"
	"slices"
)

// The capacity report: every report is checked and normalized before it leaves the driver, and
// the core keeps the last one to validate pools and round sizes.

func (c *core) capacity(ctx context.Context) (Capacity, error) {
	var report Capacity
	var gen *generation
	err := c.run(ctx, "GetCapacity", nil, func(ctx context.Context, g *generation) (err error) {
		gen = g
		report, err = g.drv.Capacity(ctx)
		return err
	})
	if err != nil {
		return Capacity{}, err
	}
	report.Pools = slices.Clone(report.Pools) // normalized below; the driver may reuse its slice
	pools := make(map[string]Pool, len(report.Pools))
	for i := range report.Pools {
		p := &report.Pools[i]
		if err := checkPool(p, gen.caps); err != nil {
			return Capacity{}, &Error{Code: Internal, Reason: "INVALID_CAPACITY_REPORT", Pool: p.Name,
				Message: fmt.Sprintf("pool %q: %v", p.Name, err)}
		}
		if _, dup := pools[p.Name]; dup {
			return Capacity{}, &Error{Code: Internal, Reason: "INVALID_CAPACITY_REPORT",
				Message: fmt.Sprintf("pool %q reported twice", p.Name)}
		}
		pools[p.Name] = *p
	}
	report.Seq, report.BootID = c.seq.Add(1), c.bootID
	c.mu.Lock()
	gen.pools = pools
	c.mu.Unlock()
	return report, nil
}

// checkPool rejects a malformed pool and fills the defaults of zero fields.
func checkPool(p *Pool, caps Capabilities) error {
	switch {
	case p.Name == "":
		return fmt.Errorf("pool without a name")
	case p.State < PoolUp || p.State > PoolDown:
		return fmt.Errorf("unknown state %d", p.State)
	case p.TotalBytes < 0 || p.FreeBytes < 0 || p.ProvisionedBytes < 0:
		return fmt.Errorf("negative byte count")
	case !p.CapacityUnknown && !p.CapacityInfinite && p.FreeBytes > p.TotalBytes:
		return fmt.Errorf("free bytes %d exceed total bytes %d", p.FreeBytes, p.TotalBytes)
	case !p.Thin && !p.Thick:
		return fmt.Errorf("offers neither thin nor thick provisioning")
	case p.MinVolumeBytes < 0 || p.MaxVolumeBytes < 0 || p.GranularityBytes < 0:
		return fmt.Errorf("negative volume bounds")
	case p.MaxVolumeBytes > 0 && p.MinVolumeBytes > p.MaxVolumeBytes:
		return fmt.Errorf("min volume size %d exceeds max %d", p.MinVolumeBytes, p.MaxVolumeBytes)
	case p.MaxOversubscription < 0:
		return fmt.Errorf("negative over-subscription ratio")
	}
	if p.GranularityBytes == 0 {
		p.GranularityBytes = 1
	}
	if p.Features == nil {
		f := caps.Features()
		p.Features = &f
	}
	return p.Features.check(caps)
}

// pool returns the last reported pool named name, asking the driver for a fresh report when it
// is not known yet.
func (c *core) pool(ctx context.Context, name string) (Pool, error) {
	if name == "" {
		return Pool{}, ErrorInvalid("pool", "required")
	}
	g, err := c.current()
	if err != nil {
		return Pool{}, err
	}
	c.mu.Lock()
	p, ok := g.pools[name]
	c.mu.Unlock()
	if ok {
		return p, nil
	}
	report, err := c.capacity(ctx)
	if err != nil {
		return Pool{}, err
	}
	if p, ok := report.Pool(name); ok {
		return p, nil
	}
	e := ErrorInvalid("pool", fmt.Sprintf("unknown pool %q", name))
	e.Pool = name
	return Pool{}, e
}
