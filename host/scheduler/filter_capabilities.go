package scheduler

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// capabilitiesFilter is CapabilitiesFilter (cinder.md §2.5): every capability extra spec must
// match the pool. Kiln adds two checks Cinder leaves to chance: an explicit provisioning type
// (Request.Provisioning or provisioning:type) the pool must offer, and the features the
// operation requires (Request.Requires).
type capabilitiesFilter struct {
	specs    []spec
	prov     Provisioning
	requires Features
	// fails counts, per spec, the pools it rejected.
	fails                     []int
	noProvisioning, noFeature int
}

func newCapabilitiesFilter(req *Request) filter {
	f := &capabilitiesFilter{specs: compileSpecs(req.ExtraSpecs), prov: req.provisioning(),
		requires: req.Requires}
	if len(f.specs) == 0 && f.prov == ProvisionAny && f.requires == 0 {
		return nil
	}
	f.fails = make([]int, len(f.specs))
	return f
}

func (f *capabilitiesFilter) pass(p *Pool) bool {
	if f.prov == ProvisionThin && !p.Thin || f.prov == ProvisionThick && !p.Thick {
		f.noProvisioning++
		return false
	}
	if !p.Features.Has(f.requires) {
		f.noFeature++
		return false
	}
	ok := true
	for i := range f.specs {
		if !f.specs[i].matches(p) {
			f.fails[i]++ // every spec the pool fails, for the explanation
			ok = false
		}
	}
	return ok
}

// detail names the specs that rejected the most pools, with their counts.
func (f *capabilitiesFilter) detail() string {
	var parts []string
	if f.noProvisioning > 0 {
		parts = append(parts, fmt.Sprintf("%d without %s provisioning", f.noProvisioning, f.prov))
	}
	if f.noFeature > 0 {
		parts = append(parts, fmt.Sprintf("%d without %s", f.noFeature, f.requires))
	}
	order := make([]int, 0, len(f.specs))
	for i, n := range f.fails {
		if n > 0 {
			order = append(order, i)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(f.fails[b], f.fails[a]) })
	for n, i := range order {
		if n == maxItems {
			parts = append(parts, fmt.Sprintf("%d more specs", len(order)-maxItems))
			break
		}
		s := &f.specs[i]
		parts = append(parts, fmt.Sprintf("%d unmatched %s=%q", f.fails[i], clip(s.key), clip(s.req)))
	}
	return strings.Join(parts, "; ")
}
