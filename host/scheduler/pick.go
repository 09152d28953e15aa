package scheduler

import (
	"errors"
	"fmt"
)

// ErrInvalidRequest is wrapped by the error Pick returns for a request it cannot evaluate: a
// negative size or a query hint that is not a valid JsonFilter query.
var ErrInvalidRequest = errors.New("scheduler: invalid request")

// Decision is the outcome of Pick.
type Decision struct {
	// Pools are the pools that passed every filter, best first: Pools[0] is the choice.
	Pools []Weighed
	// Stages are the stages that ran, in order, with their counts.
	Stages []Stage
}

// Stage is one filter's pass over the pools: how many it was given and how many it kept.
type Stage struct {
	// Name is the filter's name, or Health (down pools and stale reports) or SourceBackend
	// (Request.Only), which Kiln runs first.
	Name    string
	In, Out int
	// Detail says why pools were removed; empty when none was. It is at most maxDetail bytes.
	Detail string
}

// Pick chooses a pool for the request. It runs Health, then SourceBackend when the request
// has Only, then the configured filters in order, each over the pools the previous one kept;
// it weighs the pools that pass and ranks them, best first (see Config.TopK). When no pool
// passes, the error is a *NoValidPoolError, which wraps ErrNoValidPool, and the Decision
// still holds the stages. Pick is pure: it reads pools and req and changes neither.
func Pick(cfg Config, pools []Pool, req Request) (Decision, error) {
	if err := cfg.Validate(); err != nil {
		return Decision{}, err
	}
	if req.Size < 0 {
		return Decision{}, fmt.Errorf("%w: negative size %d", ErrInvalidRequest, req.Size)
	}
	stages, err := plan(cfg, &req)
	if err != nil {
		return Decision{}, err
	}
	if len(pools) == 0 {
		return Decision{}, &NoValidPoolError{}
	}
	alive := make([]int32, len(pools))
	for i := range alive {
		alive[i] = int32(i)
	}
	d := Decision{Stages: make([]Stage, 0, len(stages))}
	for _, s := range stages {
		st := Stage{Name: s.name, In: len(alive)}
		alive = s.run(pools, alive)
		if st.Out = len(alive); st.Out < st.In {
			st.Detail = clipDetail(s.f.detail())
		}
		d.Stages = append(d.Stages, st)
		if len(alive) == 0 {
			return d, &NoValidPoolError{Stages: d.Stages}
		}
	}
	d.Pools = weigh(cfg, pools, alive, &req)
	rank(cfg, d.Pools)
	return d, nil
}

// stage is a named filter; a nil filter keeps every pool.
type stage struct {
	name string
	f    filter
}

// plan builds the stages for the request, compiling what it says once.
func plan(cfg Config, req *Request) ([]stage, error) {
	stages := []stage{{stageHealth, &healthFilter{maxAge: cfg.maxAge()}}}
	if req.Only.Backend != "" {
		stages = append(stages, stage{stageSource, &sourceFilter{only: req.Only}})
	}
	for _, name := range cfg.filters() {
		f, err := newFilter(name, req)
		if err != nil {
			return nil, err
		}
		stages = append(stages, stage{name, f})
	}
	return stages, nil
}

// run keeps the pools of alive that pass, in place and in order.
func (s stage) run(pools []Pool, alive []int32) []int32 {
	if s.f == nil {
		return alive
	}
	out := alive[:0]
	for _, i := range alive {
		if s.f.pass(&pools[i]) {
			out = append(out, i)
		}
	}
	return out
}
