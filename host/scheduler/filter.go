package scheduler

import (
	"fmt"
	"strings"
	"time"
)

// Names of the stages Kiln runs before the configured filters.
const (
	stageHealth = "Health"        // down pools and stale reports
	stageSource = "SourceBackend" // Request.Only
)

// filter is one stage of a decision, built for one request, so that everything the request
// says is parsed once and not per pool.
type filter interface {
	// pass reports whether the pool passes, counting why it does not.
	pass(p *Pool) bool
	// detail summarises the rejections once the stage has run; "" when there is nothing to say.
	detail() string
}

// newFilter builds the named filter for the request; nil when the request gives it nothing to
// check (no zone, no extra specs, no hint, no attempt).
func newFilter(name string, req *Request) (filter, error) {
	switch name {
	case filterZone:
		return newZoneFilter(req), nil
	case filterCapacity:
		return newCapacityFilter(req), nil
	case filterCapabilities:
		return newCapabilitiesFilter(req), nil
	case filterAttempted:
		return newAttemptedFilter(req), nil
	case filterDifferent:
		return newAffinityFilter(req.Hints.DifferentBackend, false), nil
	case filterSame:
		return newAffinityFilter(req.Hints.SameBackend, true), nil
	case filterJSON:
		return newJSONFilter(req)
	case filterDriver:
		return &driverFilter{req: req}, nil
	}
	return nil, fmt.Errorf("%w: unknown filter %q", ErrInvalidConfig, name)
}

// healthFilter removes down pools and pools whose report is older than the limit (cinder.md
// §9 item 2: Cinder trusts capability data of any age while the service heartbeats).
type healthFilter struct {
	maxAge      time.Duration
	down, stale int
	oldest      time.Duration
}

func (f *healthFilter) pass(p *Pool) bool {
	if p.State == PoolDown {
		f.down++
		return false
	}
	if f.maxAge > 0 && p.Age > f.maxAge {
		f.stale++
		f.oldest = max(f.oldest, p.Age)
		return false
	}
	return true
}

func (f *healthFilter) detail() string {
	var parts []string
	if f.down > 0 {
		parts = append(parts, fmt.Sprintf("%d down", f.down))
	}
	if f.stale > 0 {
		parts = append(parts, fmt.Sprintf("%d with a report older than %s (oldest %s)",
			f.stale, f.maxAge, f.oldest.Round(time.Second)))
	}
	return strings.Join(parts, ", ")
}

// sourceFilter keeps the backend, or the pool, of Request.Only.
type sourceFilter struct{ only PoolRef }

func (f *sourceFilter) pass(p *Pool) bool {
	return p.Backend == f.only.Backend && (f.only.Pool == "" || p.Name == f.only.Pool)
}

func (f *sourceFilter) detail() string {
	if f.only.Pool == "" {
		return "only backend " + clip(f.only.Backend)
	}
	return "only pool " + clip(f.only.String())
}

// attemptedFilter is IgnoreAttemptedHostsFilter: the pools earlier attempts failed on are not
// chosen again. Cinder leaves it off by default; Kiln turns it on (cinder.md §8).
type attemptedFilter struct {
	attempted []PoolRef
	n         int
}

func newAttemptedFilter(req *Request) filter {
	if len(req.Attempted) == 0 {
		return nil
	}
	return &attemptedFilter{attempted: req.Attempted}
}

func (f *attemptedFilter) pass(p *Pool) bool {
	for _, r := range f.attempted {
		if r.is(p) {
			f.n++
			return false
		}
	}
	return true
}

func (f *attemptedFilter) detail() string {
	return fmt.Sprintf("%d attempted before", f.n)
}

// affinityFilter is DifferentBackendFilter (same false) and SameBackendFilter (same true),
// matched at the backend: Cinder matches at the pool, so different_host could land in
// another pool of the very backend it was meant to avoid.
type affinityFilter struct {
	backends []string
	same     bool
}

func newAffinityFilter(backends []string, same bool) filter {
	if len(backends) == 0 {
		return nil
	}
	return &affinityFilter{backends: backends, same: same}
}

func (f *affinityFilter) pass(p *Pool) bool {
	for _, b := range f.backends {
		if b == p.Backend {
			return f.same
		}
	}
	return !f.same
}

func (f *affinityFilter) detail() string {
	if f.same {
		return "same backend as " + list(f.backends)
	}
	return "different backend from " + list(f.backends)
}

// maxItems and maxWord bound the lists and words an explanation quotes.
const (
	maxItems = 3
	maxWord  = 64
)

// list joins up to maxItems clipped items, saying how many more there are.
func list(items []string) string {
	var b strings.Builder
	for i, it := range items {
		if i == maxItems {
			fmt.Fprintf(&b, " and %d more", len(items)-maxItems)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(clip(it))
	}
	return b.String()
}

// clip shortens s to maxWord bytes.
func clip(s string) string { return clipTo(s, maxWord) }
