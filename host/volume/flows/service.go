package flows

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/kilnstorage/kiln/host/flow"
	"github.com/kilnstorage/kiln/host/scheduler"
	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/sdk"
)

// DefaultMaxAttempts is Cinder's scheduler_max_attempts: the first try and two reschedules.
const DefaultMaxAttempts = 3

// DefaultCleanupWait is Config.CleanupWait's default: a few restarts of a crashed driver.
const DefaultCleanupWait = 30 * time.Second

func (c Config) cleanupWait() time.Duration {
	if c.CleanupWait > 0 {
		return c.CleanupWait
	}
	return DefaultCleanupWait
}

// Backend is what the flows need of one backend: its driver, and a capacity poll after a
// change. *backend.Supervisor is one.
type Backend interface {
	Client() (*sdk.Client, error)
	Refresh()
}

// Backends finds a configured backend by name.
type Backends interface {
	Backend(name string) (Backend, bool)
}

// BackendSet is a fixed set of backends by name.
type BackendSet map[string]Backend

// Backend returns the backend called name.
func (b BackendSet) Backend(name string) (Backend, bool) {
	be, ok := b[name]
	return be, ok
}

// Config configures a Service. Store and Backends are required; the rest has useful zero
// values.
type Config struct {
	Store    *store.Store
	Backends Backends
	// Owner names this host's journal (store.Journal); "" for a single host.
	Owner     string
	Observers []flow.Observer
	// Scheduler configures scheduler.Pick.
	Scheduler scheduler.Config
	// MaxAttempts bounds the scheduling attempts of one volume; 0 is DefaultMaxAttempts.
	MaxAttempts int
	// Zones are the known availability zones; empty is just DefaultZone.
	Zones []string
	// DefaultZone is the zone of a request that names none; "" is "nova".
	DefaultZone string
	// MaxSizeGiB bounds a volume's size; 0 is no bound beyond quotas and the type's.
	MaxSizeGiB int64
	// CleanupWait bounds how long a failed create whose outcome is unknown waits for its
	// backend to come back to delete what it may have left, before the volume goes to
	// `error`; 0 is DefaultCleanupWait.
	CleanupWait time.Duration
	// SchedulerQueue and VolumeQueue carry the casts to the scheduler flow and to the manager
	// flow; nil gets a queue of 4 workers and 64 slots. The Service owns and closes them.
	SchedulerQueue, VolumeQueue *Queue
	Logger                      hclog.Logger
}

// Service runs the create-volume flows.
type Service struct {
	cfg    Config
	store  *store.Store
	engine *flow.Engine
	// journal is the engine's journal.
	journal *store.Journal
	sched   *Queue
	vol     *Queue
	log     hclog.Logger
	busy    inflight
	// deletes holds the volumes and snapshots a delete flow started by a request of this
	// process is working on: a second delete of one is refused rather than taking it over.
	deletes inflight

	api     *flow.Flow[apiState]
	schedF  *flow.Flow[scheduleState]
	manager *flow.Flow[managerState]
	deleter *flow.Flow[deleteState]

	snapshotF       *flow.Flow[snapshotState]
	snapshotDeleter *flow.Flow[snapshotDeleteState]
	bg              background
	extender        *flow.Flow[extendState]
}

// New returns a Service; call Recover before accepting requests and Close at the end.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Backends == nil {
		return nil, fmt.Errorf("volume flows: a store and backends are required")
	}
	if err := cfg.Scheduler.Validate(); err != nil {
		return nil, fmt.Errorf("volume flows: %w", err)
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.DefaultZone == "" {
		cfg.DefaultZone = "nova"
	}
	if len(cfg.Zones) == 0 {
		cfg.Zones = []string{cfg.DefaultZone}
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	s := &Service{cfg: cfg, store: cfg.Store, sched: cfg.SchedulerQueue, vol: cfg.VolumeQueue,
		log:     cfg.Logger.Named("volume_flows"),
		journal: cfg.Store.Journal(cfg.Owner)}
	s.engine = &flow.Engine{Journal: s.journal, Observers: cfg.Observers}
	if s.sched == nil {
		s.sched = NewQueue(4, 64)
	}
	if s.vol == nil {
		s.vol = NewQueue(4, 64)
	}
	s.api, s.schedF, s.manager = s.apiFlow(), s.scheduleFlow(), s.managerFlow()
	s.deleter = s.deleteFlow()
	s.snapshotF, s.snapshotDeleter = s.snapshotFlow(), s.snapshotDeleteFlow()
	s.extender = s.extendFlow()
	return s, nil
}

// CreateVolume runs the API flow: it validates the request, reserves quota, inserts the
// volume in `creating` and casts it to the scheduler, and returns the row at once. The
// volume reaches `available` or `error` later.
func (s *Service) CreateVolume(ctx context.Context, req Request) (store.Volume, error) {
	st := &apiState{FlowID: flow.NewID(), Request: req, fresh: true}
	if err := s.api.Run(ctx, s.engine, st.FlowID, st); err != nil {
		return store.Volume{}, err
	}
	return st.Volume, nil
}

// Recover finishes every create flow this host's journal holds (see flow.Engine.Recover),
// then casts again the `creating` volumes no flow holds (action Recast; see sweep). Call it
// once at start-up, before new requests. Recovery entries with Action Recast carry the volume
// ID.
func (s *Service) Recover(ctx context.Context) ([]flow.Recovery, error) {
	strays, err := s.strays(ctx)
	if err != nil {
		return nil, err
	}
	out, err := s.engine.Recover(ctx, s.api, s.schedF, s.manager, s.deleter, s.snapshotF, s.snapshotDeleter,
		s.extender)
	if err != nil {
		return out, err
	}
	return append(out, s.sweep(ctx, strays)...), nil
}

// Close stops accepting work and waits for the queued flows: the scheduler's first, since
// they cast to the volume queue. A reschedule asked for while closing ends in `error`.
func (s *Service) Close() {
	s.sched.Close()
	s.vol.Close()
	s.bg.close()
}
