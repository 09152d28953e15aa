package fake

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/kilnstorage/kiln/sdk"
)

// Plugin is the fake driver as the SDK serves it.
var Plugin = sdk.Plugin[Config, *Driver]{Name: "fake", Version: "0.1.0", New: New}

// Driver is the fake driver. It implements sdk.Driver and every optional interface of the
// contract. Calls on different IDs run concurrently; one mutex guards the state, and no call
// holds it while sleeping its latency.
type Driver struct {
	log    hclog.Logger
	dir    string // the state directory
	pools  []sdk.Pool
	faults *faults

	mu      sync.Mutex
	journal *journal
	st      state // as the journal holds it
}

var _ interface {
	sdk.Driver
	sdk.Snapshotter
	sdk.SnapshotRestorer
	sdk.Cloner
	sdk.Extender
	sdk.Inspector
	sdk.Lister
	sdk.Connector
	sdk.Prober
	sdk.Closer
} = (*Driver)(nil)

const (
	mib = 1 << 20
	gib = 1 << 30
)

// defaultPools are the pools of a Config that has none.
func defaultPools() []Pool {
	return []Pool{
		{Name: "fast", Total: 100 * gib, Thick: true, Granularity: mib},
		{Name: "slow", Total: 1024 * gib, Thin: true, Granularity: mib, MaxOversubscription: 20},
	}
}

// New builds the driver from cfg and loads the backend's state from <cfg.StateDir>/<env.Backend>
// plus .json (a snapshot) and .log (the changes since), creating the directory if needed.
func New(ctx context.Context, cfg Config, env sdk.Env) (*Driver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, &sdk.Error{Code: sdk.InvalidArgument, Reason: "INVALID_CONFIG",
			Message: "config: " + err.Error(), Err: err}
	}
	log := env.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	base, err := stateFiles(cfg.StateDir, env.Backend)
	if err != nil {
		return nil, err
	}
	f, err := newFaults(cfg, log)
	if err != nil {
		return nil, sdk.ErrorInternal(err)
	}
	j, st, err := openJournal(base, f.has(BugForgetsVolumesOnRestart))
	if err != nil {
		return nil, sdk.ErrorInternal(err)
	}
	log.Info("state loaded", "path", j.snapshot, "log", j.path, "log_records", j.records,
		"volumes", len(st.Volumes), "snapshots", len(st.Snapshots))
	if len(cfg.Bugs) > 0 {
		log.Warn("seeded bugs switched on", "bugs", cfg.Bugs)
	}
	return &Driver{log: log, dir: cfg.StateDir, pools: reports(cfg.Pools), faults: f,
		journal: j, st: st}, nil
}

// stateFiles names the state files of backend in dir, without their extensions.
func stateFiles(dir, backend string) (string, error) {
	if backend == "" {
		backend = "fake"
	}
	if backend == "." || backend == ".." || strings.ContainsAny(backend, `/\`) {
		return "", sdk.ErrorInvalid("backend", fmt.Sprintf("%q cannot name a state file", backend))
	}
	return filepath.Join(dir, backend), nil
}

// reports turns the configured pools into the static part of their capacity reports.
func reports(pools []Pool) []sdk.Pool {
	if len(pools) == 0 {
		pools = defaultPools()
	}
	out := make([]sdk.Pool, len(pools))
	for i, p := range pools {
		out[i] = p.report()
	}
	return out
}

func (p Pool) report() sdk.Pool {
	r := sdk.Pool{Name: p.Name, State: poolStates[p.State], TotalBytes: int64(p.Total),
		Thin: p.Thin, Thick: p.Thick || !p.Thin, MaxOversubscription: p.MaxOversubscription,
		MinVolumeBytes: int64(p.MinVolume), MaxVolumeBytes: int64(p.MaxVolume),
		GranularityBytes: int64(p.Granularity), Features: p.Features.set()}
	if r.State != sdk.PoolUp {
		r.StateReason = "state " + p.State + " set in the fake driver's configuration"
	}
	for k, v := range p.Attributes {
		if r.Attributes == nil {
			r.Attributes = make(map[string]sdk.Attribute, len(p.Attributes))
		}
		r.Attributes[k] = sdk.StringAttr(v)
	}
	return r
}

// set returns f as a pool reports it: nil when the block is absent (see Features).
func (f *Features) set() *sdk.FeatureSet {
	if f == nil {
		return nil
	}
	return &sdk.FeatureSet{Snapshots: f.Snapshots, CreateFromSnapshot: f.CreateFromSnapshot,
		Clone: f.Clone, Extend: f.Extend, ExtendOnline: f.ExtendOnline,
		CloneAcrossPools: f.CloneAcrossPools, IndependentSnapshots: f.IndependentSnapshots,
		Protocols: slices.Clone(f.Protocols)}
}

// pool returns the configured pool named name.
func (d *Driver) pool(name string) (sdk.Pool, bool) {
	i := slices.IndexFunc(d.pools, func(p sdk.Pool) bool { return p.Name == name })
	if i < 0 {
		return sdk.Pool{}, false
	}
	return d.pools[i], true
}

// features returns what pool supports: its declared features, else everything the driver
// implements with the conservative behaviours.
func (d *Driver) features(pool string) sdk.FeatureSet {
	if p, ok := d.pool(pool); ok && p.Features != nil {
		return *p.Features
	}
	return sdk.CapabilitiesOf(d).Features()
}

// Capacity reports the configured pools with their free and provisioned bytes.
func (d *Driver) Capacity(ctx context.Context) (sdk.Capacity, error) {
	if err := d.faults.before(ctx, OpCapacity); err != nil {
		return sdk.Capacity{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	pools := make([]sdk.Pool, len(d.pools))
	for i, p := range d.pools {
		p.FreeBytes, p.ProvisionedBytes = d.st.usage(p.Name, p.TotalBytes)
		p.Attributes = maps.Clone(p.Attributes)
		if p.Features != nil {
			f := *p.Features
			f.Protocols = slices.Clone(f.Protocols)
			p.Features = &f
		}
		pools[i] = p
	}
	return sdk.Capacity{Pools: pools}, nil
}

// Probe succeeds while the state directory exists.
func (d *Driver) Probe(ctx context.Context) error {
	if err := d.faults.before(ctx, OpProbe); err != nil {
		return err
	}
	if _, err := os.Stat(d.dir); err != nil {
		return sdk.ErrorUnavailable("state directory: "+err.Error(), time.Second)
	}
	return nil
}

// Close closes the log. It flushes nothing: every change is on disk when its call returns.
func (d *Driver) Close(context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.journal.close()
}

// apply writes change c to the log and only then makes it to the state, so a failed write
// changes nothing. The caller holds d.mu.
func (d *Driver) apply(c change) error {
	if err := d.journal.append(c); err != nil {
		return sdk.ErrorInternal(fmt.Errorf("saving the fake's state: %w", err))
	}
	d.st.apply(c)
	d.compact()
	return nil
}

// compact writes a new snapshot once the log is long. The change that triggered it is already
// on disk, so a failure only leaves the log longer, and the next change tries again.
func (d *Driver) compact() {
	if !d.journal.full(len(d.st.Volumes) + len(d.st.Snapshots)) {
		return
	}
	if err := d.journal.compact(d.st); err != nil {
		d.log.Warn("compacting the state failed; the log keeps growing", "error", err)
	}
}

// reserve checks that a pool has need free bytes for a thick volume; thin ones take none.
func (d *Driver) reserve(pool string, thin bool, need int64) error {
	if thin {
		return nil
	}
	p, _ := d.pool(pool)
	if free, _ := d.st.usage(pool, p.TotalBytes); need > free {
		return sdk.ErrorNoSpace(pool, need, free)
	}
	return nil
}
