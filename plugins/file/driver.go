package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/kilnstorage/kiln/sdk"
)

// Driver keeps volumes as files in pool directories. It implements sdk.Driver and the optional
// Snapshotter, SnapshotRestorer, Cloner, Extender, Inspector, Lister, Connector and Prober.
//
// The driver holds no state of its own: every answer comes from the files and records in the
// pools, and what it caches about a pool's filesystem is measured again when the directory
// changes filesystem. The SDK runs calls on one ID one at a time; calls on different IDs touch
// different files and run concurrently.
type Driver struct {
	log   logger
	pools []*pool
}

// logger is what the driver logs through: the SDK's hclog.Logger, which writes JSON to
// stderr at the level the host chose.
type logger interface {
	Debug(msg string, args ...any)
	Info(msg string, args ...any)
	Warn(msg string, args ...any)
}

// discard is the logger of a driver built without one.
type discard struct{}

func (discard) Debug(string, ...any) {}
func (discard) Info(string, ...any)  {}
func (discard) Warn(string, ...any)  {}

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
} = (*Driver)(nil)

// New builds the driver and probes every pool's directory. A pool that cannot be used yet is
// reported down, with the reason, until it can; pools whose directories overlap fail New.
func New(_ context.Context, cfg Config, env sdk.Env) (*Driver, error) {
	var log logger = discard{}
	if env.Logger != nil {
		log = env.Logger
	}
	return newDriver(cfg, log, systemFS())
}

func newDriver(cfg Config, log logger, sys fsops) (*Driver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, &sdk.Error{Code: sdk.InvalidArgument, Reason: "INVALID_CONFIG",
			Message: "config: " + err.Error(), Err: err}
	}
	d := &Driver{log: log}
	dirs := make(map[string]string, len(cfg.Pools))
	for _, c := range cfg.Pools {
		p := &pool{cfg: c, sys: sys, log: log}
		d.pools = append(d.pools, p)
		info, err := p.state()
		if err != nil {
			log.Warn("pool down", "pool", c.Name, "error", err)
			continue
		}
		for name, dir := range dirs {
			if nested(info.dir, dir) {
				return nil, sdk.ErrorInvalid("config", fmt.Sprintf("pools %s and %s resolve to overlapping directories %s and %s", name, c.Name, dir, info.dir))
			}
		}
		dirs[c.Name] = info.dir
	}
	return d, nil
}

// site is a pool that is up, opened for one call: its facts and a handle on its directory
// through which no path can leave it.
type site struct {
	p    *pool
	info *fsInfo
	root *os.Root
}

func (s site) close() { s.root.Close() }

// path is the absolute path of name in the pool.
func (s site) path(name string) string { return filepath.Join(s.info.dir, name) }

// reflinks tells whether copies in this pool share extents.
func (s site) reflinks() bool { return s.info.reflink && s.p.cfg.Reflink }

// open opens pool p for one call; a pool that is down is Unavailable.
func open(p *pool) (site, error) {
	info, err := p.state()
	if err != nil {
		return site{}, errDown(p.cfg.Name, err)
	}
	root, err := os.OpenRoot(info.dir)
	if err != nil {
		return site{}, errDown(p.cfg.Name, err)
	}
	return site{p: p, info: info, root: root}, nil
}

// openPool opens the pool named name; an unknown pool is InvalidArgument.
func (d *Driver) openPool(name string) (site, error) {
	i := slices.IndexFunc(d.pools, func(p *pool) bool { return p.cfg.Name == name })
	if i < 0 {
		e := sdk.ErrorInvalid("pool", fmt.Sprintf("unknown pool %q", name))
		e.Pool = name
		return site{}, e
	}
	return open(d.pools[i])
}

// kinds names what each pool subdirectory holds, for errors.
var kinds = map[string]string{volumesDir: "volume", snapshotsDir: "snapshot"}

// find returns the pool holding object id in dir (volumesDir or snapshotsDir) and the object,
// looking in the pool named hint first and then in the others, so that a stale hint costs a
// few stat calls, not a wrong answer. It is NotFound when no pool has it, and Unavailable when
// the hinted pool is down (or, without a hint, any pool). Other pools that are down are not
// searched, so that one pool down does not stop the others. The caller closes the site.
func (d *Driver) find(dir, id, hint string) (site, object, error) {
	if err := checkID(kinds[dir], id); err != nil {
		return site{}, object{}, err
	}
	pools := d.hintFirst(hint)
	hinted := len(pools) > 0 && pools[0].cfg.Name == hint
	var down error
	for _, p := range pools {
		s, err := open(p)
		if err != nil {
			if down == nil && (!hinted || p.cfg.Name == hint) {
				down = err
			}
			continue
		}
		o, ok, err := s.load(dir, id)
		switch {
		case err != nil:
			s.close()
			return site{}, object{}, s.fail("read "+kinds[dir]+" "+id, 0, err)
		case ok:
			return s, o, nil
		}
		s.close()
	}
	if down != nil {
		return site{}, object{}, down
	}
	return site{}, object{}, sdk.ErrorNotFound(kinds[dir], id)
}

// hintFirst returns the pools with the one named hint first.
func (d *Driver) hintFirst(hint string) []*pool {
	order := make([]*pool, 0, len(d.pools))
	for _, p := range d.pools {
		if p.cfg.Name == hint {
			order = append(order, p)
		}
	}
	for _, p := range d.pools {
		if p.cfg.Name != hint {
			order = append(order, p)
		}
	}
	return order
}

// volume is o as the host sees it. ProviderData comes only from the pool's path and the
// record, so a repeated call and a restarted driver give the same.
func (s site) volume(o object) sdk.Volume {
	v := sdk.Volume{ID: o.rec.ID, Pool: s.p.cfg.Name, SizeBytes: o.size, Thin: o.rec.Thin,
		SourceSnapshotID: o.rec.SourceSnapshotID, SourceVolumeID: o.rec.SourceVolumeID,
		ProviderData: s.providerData(dataName(volumesDir, o.rec.ID), o.rec)}
	if o.rec.Thin {
		v.AllocatedBytes = o.allocated
	}
	return v
}

// snapshot is o as the host sees it.
func (s site) snapshot(o object) sdk.Snapshot {
	return sdk.Snapshot{ID: o.rec.ID, SourceVolumeID: o.rec.SourceVolumeID, Pool: s.p.cfg.Name,
		SizeBytes: o.size, Ready: true,
		ProviderData: s.providerData(dataName(snapshotsDir, o.rec.ID), o.rec)}
}

func (s site) providerData(name string, rec record) map[string]string {
	pd := map[string]string{"path": s.path(name), "format": "raw"}
	if rec.CopyMethod != "" {
		pd["copy_method"] = rec.CopyMethod
	}
	return pd
}
