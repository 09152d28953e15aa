package fake

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/kilnstorage/kiln/sdk"
)

// Seeded bugs, by the names Config.Bugs takes. Each breaks one rule of the driver contract on
// purpose, so that the conformance suite can prove it catches that class of bug.
const (
	// BugNonIdempotentCreate makes a repeated create with the same ID make a second object,
	// with new ProviderData, that takes capacity again.
	BugNonIdempotentCreate = "non_idempotent_create"
	// BugLeakCapacityOnDelete keeps a deleted thick volume's bytes out of the pool's free bytes.
	BugLeakCapacityOnDelete = "leak_capacity_on_delete"
	// BugWrongCodeOnMissingSource answers a missing snapshot or source volume with Internal
	// instead of NotFound.
	BugWrongCodeOnMissingSource = "wrong_code_on_missing_source"
	// BugForgetsVolumesOnRestart makes New start empty, and empty the state files, instead of
	// loading them.
	BugForgetsVolumesOnRestart = "forgets_volumes_on_restart"
	// BugDeleteMissingErrors answers the delete of a missing volume with NotFound.
	BugDeleteMissingErrors = "delete_missing_errors"
	// BugPrintsToStdout writes a line to stdout, which the plugin handshake owns, on every
	// volume create.
	BugPrintsToStdout = "prints_to_stdout"
	// BugIgnoresCtx makes the configured latency ignore cancellation: the call sleeps it out
	// and then succeeds.
	BugIgnoresCtx = "ignores_ctx"
)

// Bugs lists every seeded bug.
var Bugs = []string{
	BugNonIdempotentCreate, BugLeakCapacityOnDelete, BugWrongCodeOnMissingSource,
	BugForgetsVolumesOnRestart, BugDeleteMissingErrors, BugPrintsToStdout, BugIgnoresCtx,
}

// rule is a validated Failure.
type rule struct {
	op    string
	code  sdk.Code
	every int // fail calls every, 2×every, …; 0 fails only the first call
	f     Failure
}

// rule validates f.
func (f Failure) rule() (rule, error) {
	if err := checkOp(f.Op); err != nil {
		return rule{}, fmt.Errorf("op: %w", err)
	}
	code, ok := codeNamed(f.Code)
	if !ok {
		return rule{}, fmt.Errorf("code: unknown code %q (want one of %s)", f.Code, strings.Join(codeNames(), ", "))
	}
	every, err := f.period()
	if err != nil {
		return rule{}, err
	}
	return rule{op: f.Op, code: code, every: every, f: f}, nil
}

// period returns how often f fails: every n-th call, or 0 for the first call only.
func (f Failure) period() (int, error) {
	n := 0
	switch f.Mode {
	case "", "always":
		n = 1
	case "once":
	case "every":
		if f.Every < 1 {
			return 0, fmt.Errorf("every: mode every needs every >= 1, got %d", f.Every)
		}
		return f.Every, nil
	default:
		return 0, fmt.Errorf("mode: unknown mode %q (want once, always or every)", f.Mode)
	}
	if f.Every != 0 {
		return 0, fmt.Errorf("every: only for mode every, not mode %q", f.Mode)
	}
	return n, nil
}

// fails reports whether the n-th call (from 1) of the operation fails.
func (r rule) fails(n int) bool {
	if r.every == 0 {
		return n == 1
	}
	return n%r.every == 0
}

func (r rule) err(n int) *sdk.Error {
	e := &sdk.Error{Code: r.code, Reason: r.f.Reason, Message: r.f.Message}
	if e.Reason == "" {
		e.Reason = "INJECTED_FAILURE"
	}
	if e.Message == "" {
		e.Message = fmt.Sprintf("injected failure of %s (call %d)", r.op, n)
	}
	return e
}

// codeNamed returns the Code named name; the empty name is Internal.
func codeNamed(name string) (sdk.Code, bool) {
	if name == "" {
		return sdk.Internal, true
	}
	for c := sdk.OK + 1; c <= sdk.DeadlineExceeded; c++ {
		if c.String() == name {
			return c, true
		}
	}
	return sdk.OK, false
}

func codeNames() []string {
	var out []string
	for c := sdk.OK + 1; c <= sdk.DeadlineExceeded; c++ {
		out = append(out, c.String())
	}
	return out
}

// faults holds the latency, failure and bug knobs of one driver. Call counts live in memory
// only: a restarted driver counts from zero.
type faults struct {
	log     hclog.Logger
	latency map[string]time.Duration
	rules   map[string][]rule
	bugs    []string

	mu    sync.Mutex
	calls map[string]int
}

func newFaults(cfg Config, log hclog.Logger) (*faults, error) {
	latency, err := parseLatency(cfg.Latency)
	if err != nil {
		return nil, err
	}
	f := &faults{log: log, latency: latency, rules: make(map[string][]rule),
		bugs: cfg.Bugs, calls: make(map[string]int)}
	for _, fc := range cfg.Failures {
		r, err := fc.rule()
		if err != nil {
			return nil, err
		}
		f.rules[r.op] = append(f.rules[r.op], r)
	}
	return f, nil
}

// has reports whether bug is switched on.
func (f *faults) has(bug string) bool { return slices.Contains(f.bugs, bug) }

// before runs at the start of every operation: it sleeps the operation's latency, then returns
// the injected failure of this call, if any.
func (f *faults) before(ctx context.Context, op string) error {
	if err := f.sleep(ctx, f.latency[op]); err != nil {
		return err
	}
	f.mu.Lock()
	f.calls[op]++
	n := f.calls[op]
	f.mu.Unlock()
	for _, r := range f.rules[op] {
		if r.fails(n) {
			f.log.Debug("injecting a failure", "op", op, "call", n, "code", r.code.String())
			return r.err(n)
		}
	}
	return nil
}

// sleep waits d or until ctx ends, whichever comes first; with BugIgnoresCtx it waits d.
func (f *faults) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	if f.has(BugIgnoresCtx) {
		time.Sleep(d)
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
