package scheduler

import (
	"fmt"
	"strings"
)

// capacityFilter is CapacityFilter (cinder.md §2.4): the volume must fit the pool's size
// limits and its headroom (Pool.Capacity). A volume of size 0 (manage) and a pool of infinite
// or unknown capacity pass; a pool reporting no total capacity fails, and so does a thin
// request on a pool whose over-subscription ratio is below 1.
type capacityFilter struct {
	size int64
	// bounded is the size the pool's volume size limits apply to.
	bounded int64
	prov    Provisioning
	// best is the largest headroom among the pools too full, for the explanation.
	best                                  int64
	full, small, large, noTotal, badRatio int
}

func newCapacityFilter(req *Request) filter {
	if req.Size == 0 {
		return nil
	}
	bounded := req.VolumeSize
	if bounded == 0 {
		bounded = req.Size
	}
	return &capacityFilter{size: req.Size, bounded: bounded, prov: req.provisioning()}
}

func (f *capacityFilter) pass(p *Pool) bool {
	switch {
	case p.MinVolumeBytes > 0 && f.bounded < p.MinVolumeBytes:
		f.small++
		return false
	case p.MaxVolumeBytes > 0 && f.bounded > p.MaxVolumeBytes:
		f.large++
		return false
	case p.Infinite || p.Unknown:
		return true
	case p.TotalBytes <= 0:
		f.noTotal++
		return false
	}
	c := p.Capacity(f.prov)
	switch {
	case c.Thin && c.Ratio < 1:
		f.badRatio++
		return false
	case f.size <= c.Headroom:
		return true
	}
	if f.full == 0 || c.Headroom > f.best {
		f.best = c.Headroom
	}
	f.full++
	return false
}

func (f *capacityFilter) detail() string {
	parts := []string{"need " + formatBytes(f.size)}
	if f.full > 0 {
		best := formatBytes(f.best)
		if best == formatBytes(f.size) {
			best = fmt.Sprintf("%d B of the %d B needed", f.best, f.size)
		}
		parts[0] += ", largest headroom " + best
	}
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(f.small, "below the pool's minimum volume size")
	add(f.large, "above the pool's maximum volume size")
	add(f.noTotal, "reporting no total capacity")
	add(f.badRatio, "with a max over-subscription ratio below 1")
	return strings.Join(parts, "; ")
}

// formatBytes writes n in the largest binary unit it reaches, with up to two decimals.
func formatBytes(n int64) string {
	units := [...]string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v, i := float64(n), 0
	for i < len(units)-1 && (v >= 1024 || v <= -1024) {
		v, i = v/1024, i+1
	}
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s + " " + units[i]
}
