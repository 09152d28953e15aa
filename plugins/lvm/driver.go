package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"sync"

	"github.com/kilnstorage/kiln/sdk"
)

// Driver is the LVM driver. It keeps no state of its own: every answer comes from lvs and vgs,
// and the only thing cached is each VG's extent size, to put bytes into NoSpace errors.
type Driver struct {
	log    logger
	lvm    lvm
	pools  []PoolConfig
	active bool   // device-mapper activation is on
	wipe   string // zero, discard or none; none when activation is off
	locks  *vgLocks
	// dev does the block-device work (wiping, copying); a field so that tests can replace it.
	dev     devices
	extents sync.Map // VG name → extent size in bytes
}

var _ interface {
	sdk.Driver
	sdk.Snapshotter
	sdk.SnapshotRestorer
	sdk.Cloner
	sdk.Extender
	sdk.Inspector
	sdk.Lister
} = (*Driver)(nil)

// New writes the backend's lvm.conf, decides on activation, checks that lvm2 runs and accepts
// the configuration, and builds the driver.
func New(ctx context.Context, cfg Config, env sdk.Env) (*Driver, error) {
	var log logger = nopLogger{}
	if env.Logger != nil {
		log = env.Logger
	}
	bin, err := exec.LookPath(cfg.LVM)
	if err != nil {
		return nil, &sdk.Error{Code: sdk.Unavailable, Reason: "LVM_NOT_INSTALLED",
			Message: fmt.Sprintf("lvm2 binary %q: %v", cfg.LVM, err), Err: err}
	}
	dir, err := backendDir(cfg.StateDir, env.Backend)
	if err != nil {
		return nil, sdk.ErrorInvalid("backend", err.Error())
	}
	active, why := activation(cfg.Activation, controlNode)
	systemDir, err := writeLVMConf(dir, lvmConf{activation: active, useAIO: cfg.UseAIO,
		archives: cfg.Archives, extra: cfg.LVMConfig})
	if err != nil {
		return nil, sdk.ErrorInternal(fmt.Errorf("writing the driver's lvm.conf: %w", err))
	}
	d := &Driver{log: log, lvm: newRunner(bin, systemDir, cfg.Grace, log), pools: cfg.Pools,
		active: active, wipe: cfg.Wipe, locks: newVGLocks(cfg.VGCommands), dev: blockDevices{}}
	if _, err := d.lvm.run(ctx, scope{}, "lvmconfig", "--validate"); err != nil {
		return nil, &sdk.Error{Code: sdk.InvalidArgument, Reason: "INVALID_CONFIG",
			Message: "config.lvm_config: lvm2 rejects the driver's lvm.conf: " + err.Error(), Err: err}
	}
	if _, _, err := d.usage(ctx); err != nil { // learns the extent sizes; a missing VG is no error
		log.Warn("cannot read the volume groups yet", "error", err)
	}
	if !active && d.wipe != "none" {
		log.Warn("activation is off: deleted volumes cannot be wiped, there is no device to write to",
			"wipe", d.wipe)
		d.wipe = "none"
	}
	log.Info("lvm driver configured", "activation", active, "activation_reason", why,
		"lvm_system_dir", systemDir, "wipe", d.wipe, "pools", len(d.pools))
	return d, nil
}

// pool returns the configured pool named name.
func (d *Driver) pool(name string) (PoolConfig, error) {
	i := slices.IndexFunc(d.pools, func(p PoolConfig) bool { return p.Name == name })
	if i < 0 {
		e := sdk.ErrorInvalid("pool", fmt.Sprintf("unknown pool %q", name))
		e.Pool = name
		return PoolConfig{}, e
	}
	return d.pools[i], nil
}

// poolOf finds the pool of an existing object: by name, else by the VG in its provider data
// (a pool renamed in the configuration still finds its volumes).
func (d *Driver) poolOf(name string, pd map[string]string) (PoolConfig, error) {
	p, err := d.pool(name)
	if err == nil || pd["vg"] == "" {
		return p, err
	}
	i := slices.IndexFunc(d.pools, func(p PoolConfig) bool {
		return p.VG == pd["vg"] && p.ThinPool == pd["thin_pool"]
	})
	if i < 0 {
		return PoolConfig{}, err
	}
	return d.pools[i], nil
}

// poolFor names the pool an LV belongs to, or "" when no configured pool holds it.
func (d *Driver) poolFor(row lvRow) string {
	for _, p := range d.pools {
		if p.VG == row.VG && p.ThinPool == thinPoolOf(row) {
			return p.Name
		}
	}
	return ""
}

// usable refuses work in a pool the host should not have routed here: a thin pool without
// activation.
func (d *Driver) usable(p PoolConfig) error {
	if p.thin() && !d.active {
		return &sdk.Error{Code: sdk.Unavailable, Reason: "DEVICE_MAPPER_UNAVAILABLE", Pool: p.Name,
			Message: "thin pool " + p.Name + " needs device-mapper, and activation is off"}
	}
	return nil
}

// needActivation refuses an operation that needs active devices when activation is off.
func (d *Driver) needActivation(op, pool string) error {
	if d.active {
		return nil
	}
	return &sdk.Error{Code: sdk.Unsupported, Reason: "DEVICE_MAPPER_UNAVAILABLE", Pool: pool,
		Message: op + " needs device-mapper, and activation is off on this host"}
}

// scope is the classification scope of a command on an object in pool p.
func (d *Driver) scope(p PoolConfig, kind, id string) scope {
	ext, _ := d.extents.Load(p.VG)
	n, _ := ext.(int64)
	return scope{pool: p.Name, extent: n, kind: kind, id: id}
}

// mutate runs a command that changes a VG's metadata, one at a time per VG.
func (d *Driver) mutate(ctx context.Context, vg string, s scope, args ...string) error {
	unlock, err := d.locks.lock(ctx, vg)
	if err != nil {
		return err
	}
	defer unlock()
	_, err = d.lvm.run(ctx, s, args...)
	return err
}

// find returns the lvs line of lv, or a NotFound error for the object s names.
func (d *Driver) find(ctx context.Context, s scope, lv lvRef) (lvRow, error) {
	out, err := d.lvm.run(ctx, s, lvsArgs(lv.String())...)
	if err != nil {
		return lvRow{}, err
	}
	rows, err := parseLVs(out)
	if err != nil {
		return lvRow{}, sdk.ErrorInternal(err)
	}
	for _, r := range rows {
		if r.Name == lv.name {
			return r, nil
		}
	}
	return lvRow{}, sdk.ErrorNotFound(or(s.kind, "volume"), s.id)
}

// isNotFound tells whether err says the object is missing.
func isNotFound(err error) bool { return errors.Is(err, sdk.ErrNotFound) }
