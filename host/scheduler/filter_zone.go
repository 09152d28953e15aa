package scheduler

import (
	"slices"
	"strings"
)

// zoneFilter is AvailabilityZoneFilter: the pool's zone must be one the type allows
// (Request.Zones) or, when the type says none, the volume's zone (Request.Zone).
type zoneFilter struct {
	zones []string
	// seen are the first distinct zones of rejected pools, for the explanation.
	seen []string
	more bool
}

func newZoneFilter(req *Request) filter {
	zones := req.Zones
	if len(zones) == 0 && req.Zone != "" {
		zones = []string{req.Zone}
	}
	if len(zones) == 0 {
		return nil
	}
	return &zoneFilter{zones: zones}
}

func (f *zoneFilter) pass(p *Pool) bool {
	if slices.Contains(f.zones, p.Zone) {
		return true
	}
	if !slices.Contains(f.seen, p.Zone) {
		if len(f.seen) < maxItems {
			f.seen = append(f.seen, p.Zone)
		} else {
			f.more = true
		}
	}
	return false
}

func (f *zoneFilter) detail() string {
	var b strings.Builder
	b.WriteString("want ")
	b.WriteString(list(f.zones))
	b.WriteString("; the others are in ")
	for i, z := range f.seen {
		if i > 0 {
			b.WriteString(", ")
		}
		if z == "" {
			z = `""`
		}
		b.WriteString(clip(z))
	}
	if f.more {
		b.WriteString(", …")
	}
	return b.String()
}
