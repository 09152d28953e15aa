package osd

import (
	"context"
	"errors"
	"sync"

	"github.com/kilnstorage/kiln/sdk"
	"github.com/libopenstorage/openstorage/api"
	"github.com/libopenstorage/openstorage/volume"
)

// Options says what openstorage cannot tell the adapter. The zero value serves one pool of
// unknown capacity, probes for snapshots and leaves Extend off.
type Options struct {
	// Capacity reports the backend's pools; openstorage v1.0.0 has no capacity API. When nil,
	// the adapter reports the one pool named Pool, with capacity unknown, thin and thick.
	Capacity func(ctx context.Context) (sdk.Capacity, error)
	// Pool names the single pool when Capacity is nil; empty means "default".
	Pool string
	// Snapshots says whether the driver takes snapshots. Nil detects it by calling
	// vd.Snapshot("", true, &api.VolumeLocator{}) once: openstorage's SnapshotNotSupported
	// default answers ErrNotSupported; any other answer, a panic included, means the driver
	// implements snapshots. Clones and restores are snapshots too, so they follow this switch.
	Snapshots *bool
	// Extend turns on ExtendVolume, implemented as vd.Set(id, nil, &api.VolumeSpec{Size: n}).
	// It is opt-in because drivers interpret Set differently: some reject any spec, and some
	// may apply the zero values of the spec's other fields.
	Extend bool
}

// Adapter is an openstorage VolumeDriver seen as a Kiln driver. It implements every optional
// interface it could need; the methods of a capability the wrapped driver lacks return an
// Unsupported error, and the capacity report keeps such capabilities out of every pool.
type Adapter struct {
	vd        volume.VolumeDriver
	opts      Options
	snapshots bool

	locks    locks
	inflight sync.WaitGroup // openstorage calls still running, including abandoned ones
	shutdown sync.Once
}

var (
	_ sdk.Driver           = (*Adapter)(nil)
	_ sdk.Snapshotter      = (*Adapter)(nil)
	_ sdk.SnapshotRestorer = (*Adapter)(nil)
	_ sdk.Cloner           = (*Adapter)(nil)
	_ sdk.Extender         = (*Adapter)(nil)
	_ sdk.Inspector        = (*Adapter)(nil)
	_ sdk.Lister           = (*Adapter)(nil)
	_ sdk.Closer           = (*Adapter)(nil)
)

// Driver wraps vd. Unless opts.Snapshots says otherwise, it probes vd for snapshot support
// once, here.
func Driver(vd volume.VolumeDriver, opts Options) *Adapter {
	if vd == nil {
		panic("osd: Driver called with a nil VolumeDriver")
	}
	if opts.Pool == "" {
		opts.Pool = "default"
	}
	a := &Adapter{vd: vd, opts: opts}
	if opts.Snapshots != nil {
		a.snapshots = *opts.Snapshots
	} else {
		a.snapshots = probeSnapshots(vd)
	}
	return a
}

// probeSnapshots tells a driver that embeds openstorage's SnapshotNotSupported from one that
// implements Snapshot. Real implementations fail on the empty ID, or panic on it, as the
// in-tree nfs and buse drivers do by indexing an empty Inspect result.
func probeSnapshots(vd volume.VolumeDriver) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = true
		}
	}()
	_, err := vd.Snapshot("", true, &api.VolumeLocator{})
	return !errors.Is(err, volume.ErrNotSupported)
}

// Capacity returns opts.Capacity's report, or the single pool, with every pool's features
// narrowed to what the wrapped driver really supports.
func (a *Adapter) Capacity(ctx context.Context) (sdk.Capacity, error) {
	if a.opts.Capacity == nil {
		return sdk.Capacity{Pools: []sdk.Pool{{
			Name: a.opts.Pool, CapacityUnknown: true, Thin: true, Thick: true, Features: a.features(nil),
		}}}, nil
	}
	c, err := a.opts.Capacity(ctx)
	if err != nil {
		return sdk.Capacity{}, fromOSD("Capacity", err)
	}
	c.Pools = append([]sdk.Pool(nil), c.Pools...)
	for i := range c.Pools {
		c.Pools[i].Features = a.features(c.Pools[i].Features)
	}
	return c, nil
}

// features intersects a pool's declared features (nil: all) with what the adapter supports.
func (a *Adapter) features(declared *sdk.FeatureSet) *sdk.FeatureSet {
	all := declared == nil
	if all {
		declared = &sdk.FeatureSet{}
	}
	snap, ext := a.snapshots, a.opts.Extend
	return &sdk.FeatureSet{
		Snapshots:            snap && (all || declared.Snapshots),
		CreateFromSnapshot:   snap && (all || declared.CreateFromSnapshot),
		Clone:                snap && (all || declared.Clone),
		Extend:               ext && (all || declared.Extend),
		ExtendOnline:         ext && declared.ExtendOnline,
		CloneAcrossPools:     snap && declared.CloneAcrossPools,
		IndependentSnapshots: snap && declared.IndependentSnapshots,
	}
}

// Plugin describes an openstorage driver as a Kiln plugin, ready for sdk.Serve. C is the
// driver's configuration struct; build turns it into the VolumeDriver and the adapter's
// Options each time the host configures the backend. Errors from build are translated like
// the driver's own, so an openstorage sentinel keeps its meaning.
func Plugin[C any](name, version string, build func(ctx context.Context, cfg C, env sdk.Env) (volume.VolumeDriver, Options, error)) sdk.Plugin[C, *Adapter] {
	return sdk.Plugin[C, *Adapter]{
		Name:    name,
		Version: version,
		New: func(ctx context.Context, cfg C, env sdk.Env) (*Adapter, error) {
			vd, opts, err := build(ctx, cfg, env)
			switch {
			case err != nil:
				return nil, fromOSD("build", err)
			case vd == nil:
				return nil, internal("build", "returned no VolumeDriver")
			}
			return Driver(vd, opts), nil
		},
	}
}

// Close waits, bounded by ctx, for openstorage calls still running, abandoned ones included,
// then shuts the driver down once.
func (a *Adapter) Close(ctx context.Context) error {
	_, err := async(ctx, "Shutdown", func(context.Context) (struct{}, error) {
		a.inflight.Wait()
		a.shutdown.Do(a.vd.Shutdown)
		return struct{}{}, nil
	})
	return err
}
