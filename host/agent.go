package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kilnstorage/kiln/host/api"
	"github.com/kilnstorage/kiln/host/backend"
	"github.com/kilnstorage/kiln/host/flow"
	"github.com/kilnstorage/kiln/host/scheduler"
	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/volume/flows"
	"github.com/kilnstorage/kiln/metrics"
	"github.com/kilnstorage/kiln/sdk"
)

// agent is one running kiln agent: the store, the backends' supervisors and the API.
type agent struct {
	cfg      *Config
	log      hclog.Logger
	store    *store.Store
	registry *prometheus.Registry
	metrics  *metrics.Metrics
	backends []*backend.Supervisor
	zones    map[string]string // backend → availability zone
}

// newAgent opens the store and prepares a supervisor per backend.
func newAgent(ctx context.Context, cfg *Config, log hclog.Logger) (*agent, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, cfg.Database, store.WithQuotaDefaults(cfg.Quota.limits()))
	if err != nil {
		return nil, fmt.Errorf("open the database: %w", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a := &agent{cfg: cfg, log: log, store: st, registry: reg, metrics: metrics.New(reg), zones: map[string]string{}}
	for _, b := range cfg.Backends {
		sup, err := a.supervisor(b)
		if err != nil {
			st.Close()
			return nil, err
		}
		a.backends = append(a.backends, sup)
	}
	return a, nil
}

// supervisor resolves a backend block's driver, decodes its config block against the driver's
// schema and builds its supervisor.
func (a *agent) supervisor(b BackendConfig) (*backend.Supervisor, error) {
	path, err := driverPath(b.Driver)
	if err != nil {
		return nil, fmt.Errorf("%s: backend %q: %w", b.DeclRange, b.Name, err)
	}
	info, err := describe(path)
	if err != nil {
		return nil, fmt.Errorf("%s: backend %q: %w", b.DeclRange, b.Name, err)
	}
	raw := []byte("{}")
	if b.DriverConfig != nil {
		if raw, err = driverConfigJSON(b.DriverConfig.Body, info.Schema); err != nil {
			return nil, err
		}
	}
	poll, _ := optionalDuration(b.PollInterval)
	zone := b.AvailabilityZone
	if zone == "" {
		zone = "nova"
	}
	a.zones[b.Name] = zone
	sink := &storeSink{store: a.store, cfg: b, zone: zone, info: info}
	return backend.New(backend.Config{Name: b.Name, Driver: path, SHA256: b.SHA256, DriverConfig: raw,
		PollInterval: poll, SocketDir: filepath.Join(a.cfg.DataDir, "sockets")}, sink, a.metrics, a.log.Named("backend")), nil
}

// run serves until ctx ends.
func (a *agent) run(ctx context.Context) error {
	defer a.store.Close()
	if err := os.MkdirAll(filepath.Join(a.cfg.DataDir, "sockets"), 0o700); err != nil {
		return err
	}
	auth, err := a.authenticator()
	if err != nil {
		return err
	}
	// The backends outlive the request handling: at shutdown the queued flows drain first (on
	// running drivers), then the drivers stop.
	bctx, stopBackends := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	for _, b := range a.backends {
		wg.Go(func() { b.Run(bctx) })
	}
	defer wg.Wait()
	defer stopBackends()
	zones := make([]string, 0, len(a.zones))
	for _, z := range a.zones {
		zones = append(zones, z)
	}
	volumes, err := a.volumeService(ctx, zones)
	if err != nil {
		return err
	}
	defer volumes.Close()
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{}))
	mux.Handle("/", a.metrics.API(api.New(api.Options{Auth: auth, Store: a.store, Zones: zones, Volumes: volumes,
		Snapshots: volumes})))
	return a.serve(ctx, mux)
}

// volumeService builds the create-volume flows and, once the backends had a moment to start,
// finishes every flow an earlier run left unfinished.
func (a *agent) volumeService(ctx context.Context, zones []string) (*flows.Service, error) {
	set := flows.BackendSet{}
	for _, b := range a.backends {
		set[b.Name()] = b
	}
	defaultZone := "nova"
	if len(zones) > 0 && !slices.Contains(zones, defaultZone) {
		defaultZone = slices.Min(zones)
	}
	sched, err := a.cfg.Scheduler.scheduler()
	if err != nil {
		return nil, err
	}
	svc, err := flows.New(flows.Config{Store: a.store, Backends: set, Observers: []flow.Observer{a.metrics},
		Scheduler: sched, MaxAttempts: a.cfg.Scheduler.MaxAttempts, Zones: zones, DefaultZone: defaultZone,
		MaxSizeGiB: math.MaxInt32, Logger: a.log})
	if err != nil {
		return nil, err
	}
	a.waitForBackends(ctx, 10*time.Second)
	recovered, err := svc.Recover(ctx)
	if err != nil {
		a.log.Error("flow recovery left entries it cannot handle", "error", err)
	}
	if len(recovered) > 0 {
		a.log.Info("recovered unfinished flows", "flows", len(recovered))
	}
	return svc, nil
}

// waitForBackends waits until every backend's driver runs, or the timeout.
func (a *agent) waitForBackends(ctx context.Context, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for _, b := range a.backends {
		for ctx.Err() == nil && time.Now().Before(deadline) {
			if _, err := b.Client(); err == nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func (a *agent) authenticator() (api.Authenticator, error) {
	if a.cfg.Auth.Mode == "noauth" {
		return api.NoAuth{}, nil
	}
	return api.LoadTokenFile(a.cfg.Auth.TokenFile)
}

// serve runs the HTTP server until ctx ends, then shuts it down gracefully.
func (a *agent) serve(ctx context.Context, h http.Handler) error {
	lis, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	a.log.Info("serving", "listen", lis.Addr().String(), "database", a.store.Dialect(), "backends", len(a.backends))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// storeSink keeps what a backend's supervisor learns in the store.
type storeSink struct {
	store *store.Store
	cfg   BackendConfig
	zone  string
	info  sdk.Info
}

func (s *storeSink) SaveReport(ctx context.Context, name string, r sdk.Capacity, at time.Time) error {
	_, err := s.store.ReportCapacity(ctx, store.BackendReport{Backend: name, AvailabilityZone: s.zone,
		ReservedPercentage: s.cfg.ReservedPercentage, MaxOverSubscriptionRatio: s.cfg.MaxOverSubscriptionRatio,
		Info: store.BackendInfo{VendorName: "Kiln", DriverVersion: s.info.Version}, Capacity: r, ReceivedAt: at})
	return err
}

func (s *storeSink) SetUp(ctx context.Context, name string, up bool, reason string) error {
	if up {
		return s.store.Heartbeat(ctx, name, "kiln-volume", s.zone)
	}
	return s.store.SetBackendDown(ctx, name, reason)
}

// devConfig is `kiln agent -dev`: SQLite in dataDir, noauth, and two backends in zone nova — the
// fake driver with two pools and the file driver with one.
func devConfig(listen, dataDir string) (*Config, error) {
	filePool := filepath.Join(dataDir, "file", "default")
	if err := os.MkdirAll(filePool, 0o700); err != nil {
		return nil, err
	}
	fakeState, _ := json.Marshal(filepath.Join(dataDir, "fake"))
	filePath, _ := json.Marshal(filePool)
	src := fmt.Sprintf(`
listen   = %q
data_dir = %q
auth {
  mode = "noauth"
}
backend "fake" {
  driver            = "fake"
  availability_zone = "nova"
  config {
    state_dir = %s
  }
}
backend "file" {
  driver            = "file"
  availability_zone = "nova"
  config {
    pool {
      name     = "default"
      path     = %s
      capacity = "100GiB"
    }
  }
}
`, listen, dataDir, fakeState, filePath)
	return ParseConfig("(kiln agent -dev)", []byte(src))
}

// scheduler turns the scheduler block into the scheduler's configuration; validated at load.
func (c *SchedulerConfig) scheduler() (scheduler.Config, error) {
	out := scheduler.Config{Filters: c.Filters, TopK: c.PickAmongTop}
	out.MaxAge, _ = optionalDuration(c.ReportMaxAge)
	names := make([]string, 0, len(c.Weighers))
	for name := range c.Weighers {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		out.Weighers = append(out.Weighers, scheduler.Weigher{Name: name, Multiplier: c.Weighers[name]})
	}
	if err := out.Validate(); err != nil {
		return out, fmt.Errorf("scheduler block: %w", err)
	}
	return out, nil
}

// limits are the quota block's defaults over Cinder's.
func (q *QuotaConfig) limits() store.Limits {
	l := store.DefaultLimits()
	for res, v := range map[string]*int{store.Volumes: q.Volumes, store.Snapshots: q.Snapshots,
		store.Gigabytes: q.Gigabytes, store.PerVolumeGigabytes: q.PerVolumeGigabytes} {
		if v != nil {
			l[res] = int64(*v)
		}
	}
	return l
}
