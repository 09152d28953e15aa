package scheduler

import (
	"fmt"
	"strings"
)

// driverFilter is DriverFilter: the pool's filter_function must be truthy. A pool without one
// passes; a function that does not parse or fails to evaluate (a missing value, a type
// error, a division by zero) fails the pool, as in Cinder. Variables: extra.*, stats.*,
// capabilities.*, volume.size (GiB) and volume.availability_zone.
type driverFilter struct {
	req           *Request
	progs         programs
	falsy, failed int
	firstErr      string
}

func (f *driverFilter) pass(p *Pool) bool {
	if p.FilterFunction == "" {
		return true
	}
	prog, err := f.progs.get(p.FilterFunction)
	if err == nil {
		e := env{p: p, req: f.req}
		var ok bool
		if ok, err = prog.passes(&e); ok {
			return true
		}
		if err == nil {
			f.falsy++
			return false
		}
	}
	f.failed++
	if f.firstErr == "" {
		f.firstErr = clip(p.Ref().String()) + ": " + clip(err.Error())
	}
	return false
}

func (f *driverFilter) detail() string {
	var parts []string
	if f.falsy > 0 {
		parts = append(parts, fmt.Sprintf("filter_function false on %d", f.falsy))
	}
	if f.failed > 0 {
		parts = append(parts, fmt.Sprintf("filter_function failed on %d (first %s)", f.failed, f.firstErr))
	}
	return strings.Join(parts, "; ")
}
