package sdk

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
)

// defaultDrain bounds Shutdown's wait for in-flight calls when the caller sets no deadline.
const defaultDrain = 5 * time.Second

// core is the driver side of the contract in Go types: it holds the configured driver and
// does the SDK's cross-cutting work around every call — configuration, per-ID serialization,
// size validation and rounding, capacity-report checks, panic recovery, error normalization
// and draining on shutdown. The gRPC server and Direct clients both call it.
type core struct {
	f      factory
	log    hclog.Logger
	locks  *keyLocks
	bootID string
	seq    atomic.Uint64

	stopCtx context.Context
	stop    context.CancelFunc
	calls   sync.WaitGroup
	active  atomic.Int64

	mu      sync.Mutex
	gen     *generation // nil until configured
	closing bool
}

// generation is one configured driver, with its own count of calls so that a reconfiguration
// closes it only once they have drained, and its own view of the pools.
type generation struct {
	drv   Driver
	caps  Capabilities
	calls sync.WaitGroup
	pools map[string]Pool // guarded by core.mu
}

func newCore(f factory, o options) *core {
	var b [8]byte
	_, _ = rand.Read(b[:])
	stopCtx, stop := context.WithCancel(context.Background())
	return &core{f: f, log: o.logger, locks: newKeyLocks(o.busyImmediately),
		bootID: hex.EncodeToString(b[:]), stopCtx: stopCtx, stop: stop}
}

var (
	errNotConfigured = &Error{Code: Unavailable, Reason: "NOT_CONFIGURED",
		Message: "the driver has not been configured"}
	errShuttingDown = &Error{Code: Unavailable, Reason: "SHUTTING_DOWN",
		Message: "the driver is shutting down"}
)

// current returns the configured driver's generation.
func (c *core) current() (*generation, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closing:
		return nil, errShuttingDown
	case c.gen == nil:
		return nil, errNotConfigured
	}
	return c.gen, nil
}

// run calls fn with the configured driver, holding the locks of keys, on a context that
// Shutdown cancels. It turns a panic into an Internal error and any error into one the wire
// can carry.
func (c *core) run(ctx context.Context, rpc string, keys []string, fn func(context.Context, *generation) error) (err error) {
	c.mu.Lock()
	g, closing := c.gen, c.closing
	if !closing && g != nil {
		c.calls.Add(1)
		g.calls.Add(1)
	}
	c.mu.Unlock()
	switch {
	case closing:
		return errShuttingDown
	case g == nil:
		return errNotConfigured
	}
	c.active.Add(1)
	defer func() { c.active.Add(-1); g.calls.Done(); c.calls.Done() }()
	ctx, cancel := context.WithCancel(ctx)
	defer context.AfterFunc(c.stopCtx, cancel)()
	defer cancel()

	start := time.Now()
	log := c.log.With("rpc", rpc)
	if len(keys) > 0 {
		log = log.With("ids", keys)
	}
	defer func() { logCall(log, time.Since(start), err) }()

	unlock, err := c.locks.lock(ctx, keys...)
	if err != nil {
		return err
	}
	defer unlock()
	if ctx.Err() != nil { // the caller gave up while waiting for the IDs
		return &Error{Code: Busy, Reason: "OPERATION_IN_FLIGHT", Message: "gave up waiting for " + strings.Join(keys, ", "), Err: ctx.Err()}
	}
	defer func() {
		if r := recover(); r != nil {
			log.Error("driver panicked", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = &Error{Code: Internal, Reason: "DRIVER_PANIC",
				Message: fmt.Sprintf("driver panicked in %s: %v", rpc, r)}
		}
	}()
	return normalize(fn(ctx, g))
}

func logCall(log hclog.Logger, took time.Duration, err error) {
	switch code := CodeOf(err); code {
	case OK:
		log.Debug("call done", "duration", took)
	case Internal:
		log.Error("call failed", "duration", took, "code", code.String(), "error", err)
	default:
		log.Warn("call failed", "duration", took, "code", code.String(), "error", err)
	}
}

// normalize keeps Errors and context errors and wraps anything else as Internal. An Error
// without a valid Code is a driver bug that must not pass for success on the wire.
func normalize(err error) error {
	var e *Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &e):
		if e.Code == OK || int(e.Code) >= len(codeNames) {
			return &Error{Code: Internal, Reason: "INVALID_ERROR_CODE",
				Message: fmt.Sprintf("driver returned an error with code %v: %v", e.Code, err), Err: err}
		}
		return err
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	return ErrorInternal(err)
}

func (c *core) info(context.Context) (Info, error) {
	info := c.f.info
	c.mu.Lock()
	if c.gen != nil {
		info.Capabilities = c.gen.caps
	}
	c.mu.Unlock()
	return info, nil
}

func (c *core) configure(ctx context.Context, req ConfigureRequest) (ConfigureResponse, error) {
	if req.LogLevel != "" {
		level := hclog.LevelFromString(req.LogLevel)
		if level == hclog.NoLevel {
			return ConfigureResponse{}, ErrorInvalid("log_level", fmt.Sprintf("unknown level %q", req.LogLevel))
		}
		c.log.SetLevel(level)
	}
	env := Env{Backend: req.Backend, Logger: c.log, HostVersion: req.HostVersion}
	d, echo, err := c.build(ctx, req.Config, env)
	if err != nil {
		return ConfigureResponse{}, normalize(err)
	}
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		c.retire(ctx, &generation{drv: d})
		return ConfigureResponse{}, errShuttingDown
	}
	old := c.gen
	c.gen = &generation{drv: d, caps: CapabilitiesOf(d)}
	c.mu.Unlock()
	if old != nil {
		c.retire(ctx, old)
	}
	c.log.Info("configured", "backend", req.Backend)
	return ConfigureResponse{Echo: echo}, nil
}

// build runs the Plugin's decoding, validation and New, turning a panic into an error.
func (c *core) build(ctx context.Context, raw []byte, env Env) (d Driver, echo []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("driver panicked while being configured", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = &Error{Code: Internal, Reason: "DRIVER_PANIC", Message: fmt.Sprintf("driver panicked in Configure: %v", r)}
		}
	}()
	return c.f.build(ctx, raw, env)
}

// retire closes a replaced driver once its calls have drained, bounded by ctx (or the default
// drain); a driver whose calls do not drain is left open rather than closed under them.
func (c *core) retire(ctx context.Context, g *generation) {
	cl, ok := g.drv.(Closer)
	if !ok {
		return
	}
	if !drain(ctx, &g.calls) {
		c.log.Warn("the previous driver still has calls running; not closing it")
		return
	}
	if err := cl.Close(ctx); err != nil {
		c.log.Warn("closing the previous driver failed", "error", err)
	}
}

// drain waits for calls, bounded by ctx or, without a deadline, by the default drain.
func drain(ctx context.Context, calls *sync.WaitGroup) bool {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultDrain)
		defer cancel()
	}
	drained := make(chan struct{})
	go func() { calls.Wait(); close(drained) }()
	select {
	case <-drained:
		return true
	case <-ctx.Done():
		return false
	}
}

func (c *core) probe(ctx context.Context) error {
	if g, err := c.current(); err != nil {
		return err
	} else if !g.caps.Probe {
		_, err := c.capacity(ctx)
		return err
	}
	return c.run(ctx, "Probe", nil, func(ctx context.Context, g *generation) error {
		return g.drv.(Prober).Probe(ctx)
	})
}

// shutdown refuses new calls, cancels the running ones and, once they have drained (bounded
// by ctx), closes the driver. Calls still running at the deadline are reported and the driver
// is not closed under them.
func (c *core) shutdown(ctx context.Context) (int, error) {
	c.mu.Lock()
	already := c.closing
	c.closing = true
	g := c.gen
	c.mu.Unlock()
	if already {
		return 0, nil
	}
	c.stop()
	if !drain(ctx, &c.calls) {
		n := int(c.active.Load())
		c.log.Warn("shutdown: calls still running after the drain; the driver is not closed", "calls", n)
		return n, nil
	}
	if g == nil {
		return 0, nil
	}
	if cl, ok := g.drv.(Closer); ok {
		if err := cl.Close(ctx); err != nil {
			return 0, normalize(err)
		}
	}
	return 0, nil
}
