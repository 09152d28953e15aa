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
	drv     Driver
	caps    Capabilities
	pools   map[string]Pool
	closing bool
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

// driver returns the configured driver and its capabilities.
func (c *core) driver() (Driver, Capabilities, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closing:
		return nil, Capabilities{}, errShuttingDown
	case c.drv == nil:
		return nil, Capabilities{}, errNotConfigured
	}
	return c.drv, c.caps, nil
}

// run calls fn with the configured driver, holding the locks of keys, on a context that
// Shutdown cancels. It turns a panic into an Internal error and any error into one the wire
// can carry.
func (c *core) run(ctx context.Context, rpc string, keys []string, fn func(context.Context, Driver) error) (err error) {
	c.mu.Lock()
	d, closing := c.drv, c.closing
	if !closing && d != nil {
		c.calls.Add(1)
	}
	c.mu.Unlock()
	switch {
	case closing:
		return errShuttingDown
	case d == nil:
		return errNotConfigured
	}
	c.active.Add(1)
	defer func() { c.active.Add(-1); c.calls.Done() }()
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
	return normalize(fn(ctx, d))
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

// normalize keeps Errors and context errors and wraps anything else as Internal.
func normalize(err error) error {
	var e *Error
	switch {
	case err == nil, errors.As(err, &e):
		return err
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	return ErrorInternal(err)
}

func (c *core) info(context.Context) (Info, error) {
	info := c.f.info
	c.mu.Lock()
	if c.drv != nil {
		info.Capabilities = c.caps
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
	d, echo, err := c.f.build(ctx, req.Config, env)
	if err != nil {
		return ConfigureResponse{}, normalize(err)
	}
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return ConfigureResponse{}, errShuttingDown
	}
	old := c.drv
	c.drv, c.caps, c.pools = d, CapabilitiesOf(d), nil
	c.mu.Unlock()
	if cl, ok := old.(Closer); ok {
		if err := cl.Close(ctx); err != nil {
			c.log.Warn("closing the previous driver failed", "error", err)
		}
	}
	c.log.Info("configured", "backend", req.Backend)
	return ConfigureResponse{Echo: echo}, nil
}

func (c *core) probe(ctx context.Context) error {
	if _, caps, err := c.driver(); err != nil {
		return err
	} else if !caps.Probe {
		_, err := c.capacity(ctx)
		return err
	}
	return c.run(ctx, "Probe", nil, func(ctx context.Context, d Driver) error {
		return d.(Prober).Probe(ctx)
	})
}

func (c *core) shutdown(ctx context.Context) (int, error) {
	c.mu.Lock()
	already := c.closing
	c.closing = true
	d := c.drv
	c.mu.Unlock()
	if already {
		return 0, nil
	}
	c.stop()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultDrain)
		defer cancel()
	}
	drained := make(chan struct{})
	go func() { c.calls.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-ctx.Done():
		n := int(c.active.Load())
		c.log.Warn("shutdown: calls still running after the drain", "calls", n)
		return n, nil
	}
	if cl, ok := d.(Closer); ok {
		if err := cl.Close(ctx); err != nil {
			return 0, normalize(err)
		}
	}
	return 0, nil
}
