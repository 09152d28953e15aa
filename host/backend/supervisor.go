package backend

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"

	"github.com/kilnstorage/kiln/sdk"
)

// Config describes one backend block.
type Config struct {
	// Name is the operator's name for the backend.
	Name string
	// Driver is the driver binary's path; SHA256 its optional checksum.
	Driver string
	SHA256 string
	// DriverConfig is the driver's configuration as a JSON object.
	DriverConfig []byte
	// Env lists extra variables for the driver process.
	Env []string
	// LogLevel is the driver's log level; empty follows the supervisor's logger.
	LogLevel string
	// SocketDir holds the plugin sockets; empty uses the system's temporary directory.
	SocketDir string
	// PollInterval is the capacity poll period, jittered by ±10 %; 0 means 10 s.
	PollInterval time.Duration
	// RefreshGap is the least time between two polls asked for by Refresh; 0 means 100 ms.
	// Under a burst of mutating calls the driver is polled once per gap, not once per call,
	// and the last call of the burst is still followed by a poll.
	RefreshGap time.Duration
	// MinBackoff and MaxBackoff bound the wait before restarting a driver; 0 means 1 s and 1 min.
	MinBackoff, MaxBackoff time.Duration
	// CallTimeout bounds Configure and each capacity poll; 0 means 30 s.
	CallTimeout time.Duration
}

// Sink receives what the supervisor learns. The store implements it.
type Sink interface {
	// SaveReport stores a capacity report received at the given time.
	SaveReport(ctx context.Context, backend string, report sdk.Capacity, at time.Time) error
	// SetUp records whether the backend answers (a heartbeat when up); while it is down its
	// pools are unschedulable. reason says why it is down.
	SetUp(ctx context.Context, backend string, up bool, reason string) error
}

// Metrics is what the supervisor reports to Prometheus.
type Metrics interface {
	SetBackendUp(backend string, up bool)
	DriverRestarted(backend string)
	SetPool(backend, pool string, total, free, provisioned, allocated int64)
	DriverInterceptor(backend string) grpc.UnaryClientInterceptor
}

// ErrDown is returned by Client while the backend's driver is not running.
var ErrDown = errors.New("backend is down")

// Supervisor runs one backend's driver.
type Supervisor struct {
	cfg     Config
	sink    Sink
	metrics Metrics
	log     hclog.Logger
	refresh chan struct{}

	mu     sync.Mutex
	client *sdk.Client
	info   sdk.Info
}

// New returns a supervisor; Run starts it. metrics may be nil.
func New(cfg Config, sink Sink, metrics Metrics, log hclog.Logger) *Supervisor {
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 10 * time.Second
	}
	if cfg.RefreshGap <= 0 {
		cfg.RefreshGap = 100 * time.Millisecond
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = time.Minute
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = 30 * time.Second
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Supervisor{cfg: cfg, sink: sink, metrics: metrics, log: log.Named(cfg.Name),
		refresh: make(chan struct{}, 1)}
}

// Name is the backend's name.
func (s *Supervisor) Name() string { return s.cfg.Name }

// Client returns the running driver's client, or ErrDown.
func (s *Supervisor) Client() (*sdk.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client == nil {
		return nil, fmt.Errorf("backend %s: %w", s.cfg.Name, ErrDown)
	}
	return s.client, nil
}

// Info describes the running driver; zero while down.
func (s *Supervisor) Info() sdk.Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.info
}

// Refresh asks for a capacity poll now, e.g. after a mutating call; it never blocks.
func (s *Supervisor) Refresh() {
	select {
	case s.refresh <- struct{}{}:
	default:
	}
}

// Run keeps the driver running until ctx ends, then shuts it down gracefully.
func (s *Supervisor) Run(ctx context.Context) {
	backoff := s.cfg.MinBackoff
	for starts := 0; ctx.Err() == nil; starts++ {
		if starts > 0 && s.metrics != nil {
			s.metrics.DriverRestarted(s.cfg.Name)
		}
		up := time.Now()
		err := s.serve(ctx)
		s.down(ctx, err)
		if ctx.Err() != nil {
			return
		}
		if time.Since(up) > 2*s.cfg.MaxBackoff { // it ran well: start over gently
			backoff = s.cfg.MinBackoff
		}
		s.log.Warn("driver stopped; restarting", "error", err, "backoff", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, s.cfg.MaxBackoff)
	}
}

// serve launches and configures the driver, then polls it until it exits or ctx ends.
func (s *Supervisor) serve(ctx context.Context) error {
	c, err := s.start(ctx)
	if err != nil {
		return err
	}
	defer s.stop(c)
	s.setClient(c)
	t := time.NewTimer(0)
	defer t.Stop()
	// gap fires when a refresh asked for within RefreshGap of the last poll is due.
	gap := time.NewTimer(0)
	gap.Stop()
	defer gap.Stop()
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.Done():
			return fmt.Errorf("driver process exited")
		case <-s.refresh:
			if wait := s.cfg.RefreshGap - time.Since(last); wait > 0 {
				gap.Reset(wait) // due at last + RefreshGap, whether or not one was pending
				continue
			}
		case <-gap.C:
		case <-t.C:
			t.Reset(jitter(s.cfg.PollInterval))
		}
		last = time.Now()
		if err := s.poll(ctx, c); err != nil {
			s.log.Warn("capacity poll failed", "error", err)
			s.down(ctx, fmt.Errorf("capacity poll: %w", err))
		}
	}
}

func (s *Supervisor) start(ctx context.Context) (*sdk.Client, error) {
	lc := sdk.LaunchConfig{Path: s.cfg.Driver, SHA256: s.cfg.SHA256, Env: s.cfg.Env,
		Logger: s.log, LogLevel: s.cfg.LogLevel, SocketDir: s.cfg.SocketDir}
	if s.metrics != nil {
		lc.Interceptors = []grpc.UnaryClientInterceptor{s.metrics.DriverInterceptor(s.cfg.Name)}
	}
	callCtx, cancel := context.WithTimeout(ctx, s.cfg.CallTimeout)
	defer cancel()
	c, err := sdk.Launch(callCtx, lc)
	if err != nil {
		return nil, err
	}
	if _, err := c.Configure(callCtx, sdk.ConfigureRequest{Backend: s.cfg.Name, Config: s.cfg.DriverConfig}); err != nil {
		c.Kill()
		return nil, fmt.Errorf("configure: %w", err)
	}
	s.log.Info("driver started", "driver", c.Info().Name, "version", c.Info().Version)
	return c, nil
}

// poll reads the driver's capacity and hands it on; a successful poll is the heartbeat.
func (s *Supervisor) poll(ctx context.Context, c *sdk.Client) error {
	callCtx, cancel := context.WithTimeout(ctx, s.cfg.CallTimeout)
	defer cancel()
	report, err := c.Capacity(callCtx)
	if err != nil {
		return err
	}
	now := time.Now()
	if err := s.sink.SaveReport(ctx, s.cfg.Name, report, now); err != nil {
		return fmt.Errorf("save the report: %w", err)
	}
	if s.metrics != nil {
		s.metrics.SetBackendUp(s.cfg.Name, true)
		for _, p := range report.Pools {
			s.metrics.SetPool(s.cfg.Name, p.Name, p.TotalBytes, p.FreeBytes, p.ProvisionedBytes, 0)
		}
	}
	return s.sink.SetUp(ctx, s.cfg.Name, true, "")
}

func (s *Supervisor) setClient(c *sdk.Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.client, s.info = c, c.Info()
}

// stop shuts the driver down gracefully, then kills it.
func (s *Supervisor) stop(c *sdk.Client) {
	s.mu.Lock()
	s.client, s.info = nil, sdk.Info{}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.Close(ctx)
}

// down records that the backend does not answer.
func (s *Supervisor) down(ctx context.Context, cause error) {
	if s.metrics != nil {
		s.metrics.SetBackendUp(s.cfg.Name, false)
	}
	reason := "stopped"
	if cause != nil {
		reason = cause.Error()
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.sink.SetUp(ctx, s.cfg.Name, false, reason); err != nil {
		s.log.Error("cannot mark the backend down", "error", err)
	}
}

func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.9 + 0.2*rand.Float64()))
}
