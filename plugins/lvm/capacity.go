package main

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/kilnstorage/kiln/sdk"
)

// metadataWarn is the thin-pool metadata use, in percent, from which the pool reports itself
// degraded: a thin pool whose metadata fills up stops taking writes (cinder.md §9 item 10).
const metadataWarn = 80

// Capacity reports every configured pool from one vgs and, when thin pools are configured, one
// lvs over their VGs.
func (d *Driver) Capacity(ctx context.Context) (sdk.Capacity, error) {
	vgs, lvs, err := d.usage(ctx)
	if err != nil {
		return sdk.Capacity{}, err
	}
	pools := make([]sdk.Pool, len(d.pools))
	for i, p := range d.pools {
		pools[i] = d.report(p, vgs[p.VG], lvs)
	}
	return sdk.Capacity{Pools: pools}, nil
}

// usage reads the VGs (by name) and, if any pool is thin, their LVs. A VG that is missing is
// left out; its pools report down.
func (d *Driver) usage(ctx context.Context) (map[string]vgRow, []lvRow, error) {
	var names, thinVGs []string
	for _, p := range d.pools {
		if !slices.Contains(names, p.VG) {
			names = append(names, p.VG)
		}
		if p.thin() && d.active && !slices.Contains(thinVGs, p.VG) {
			thinVGs = append(thinVGs, p.VG)
		}
	}
	out, err := d.lvm.run(ctx, scope{}, vgsArgs(names...)...)
	if err != nil && !vgMissing(err) {
		return nil, nil, err
	}
	rows, perr := parseVGs(out)
	if perr != nil {
		return nil, nil, sdk.ErrorInternal(perr)
	}
	vgs := make(map[string]vgRow, len(rows))
	for _, r := range rows {
		vgs[r.Name] = r
		d.extents.Store(r.Name, byteCount(r.Extent))
	}
	var lvs []lvRow
	if len(thinVGs) > 0 {
		if out, err = d.lvm.run(ctx, scope{}, lvsArgs(thinVGs...)...); err != nil && !vgMissing(err) {
			return nil, nil, err
		}
		if lvs, err = parseLVs(out); err != nil {
			return nil, nil, sdk.ErrorInternal(err)
		}
	}
	return vgs, lvs, nil
}

// vgMissing tells whether err says that a named VG does not exist: the report still lists the
// others.
func vgMissing(err error) bool {
	var e *sdk.Error
	return errors.As(err, &e) && e.Reason == "VG_NOT_FOUND"
}

// report is one pool's capacity from its VG's vgs line and the LVs of thin pools.
func (d *Driver) report(p PoolConfig, vg vgRow, lvs []lvRow) sdk.Pool {
	r := sdk.Pool{Name: p.Name, Thin: p.thin(), Thick: !p.thin(), GranularityBytes: byteCount(vg.Extent),
		MaxOversubscription: p.MaxOversubscription, Features: d.features(p),
		Attributes: map[string]sdk.Attribute{
			"vg": sdk.StringAttr(p.VG), "lvm_type": sdk.StringAttr(lvmType(p)),
			"activation": sdk.BoolAttr(d.active), "wipe": sdk.StringAttr(d.wipe),
		}}
	switch {
	case vg.Name == "":
		return down(r, fmt.Sprintf("volume group %s not found", p.VG))
	case p.thin() && !d.active:
		return down(r, "thin pools need device-mapper, and activation is off on this host")
	case vg.Attr != "" && len(vg.Attr) > 3 && vg.Attr[3] == 'p':
		r.State, r.StateReason = sdk.PoolDegraded, "volume group "+p.VG+" is partial: a PV is missing"
	}
	r.Resources = []sdk.Resource{vgMetadata(vg)}
	if !p.thin() {
		r.TotalBytes, r.FreeBytes = byteCount(vg.Size), byteCount(vg.Free)
		r.ProvisionedBytes = r.TotalBytes - r.FreeBytes
		return r
	}
	return thinReport(r, p, lvs)
}

// thinReport fills a thin pool's bytes: total is the pool's data size, free what data_percent
// leaves, provisioned the virtual sizes of its thin LVs; metadata is a Resource of its own.
func thinReport(r sdk.Pool, p PoolConfig, lvs []lvRow) sdk.Pool {
	i := slices.IndexFunc(lvs, func(l lvRow) bool { return l.VG == p.VG && l.Name == p.ThinPool })
	if i < 0 || !lvs[i].thinPool() {
		return down(r, fmt.Sprintf("thin pool %s/%s not found", p.VG, p.ThinPool))
	}
	pool := lvs[i]
	for _, l := range lvs {
		if l.VG == p.VG && l.Pool == p.ThinPool && l.thin() {
			r.ProvisionedBytes += byteCount(l.Size)
		}
	}
	data, dataOK := percent(pool.DataPercent)
	meta, metaOK := percent(pool.MetaPercent)
	if !dataOK || !metaOK {
		r.CapacityUnknown, r.State = true, sdk.PoolDegraded
		r.StateReason = "thin pool " + p.ThinPool + " is inactive: its usage is unknown"
		return r
	}
	r.TotalBytes = byteCount(pool.Size)
	r.FreeBytes = r.TotalBytes - used(r.TotalBytes, data)
	metaSize := byteCount(pool.MetadataSize)
	r.Resources = append(r.Resources, sdk.Resource{Name: "thin_metadata", Total: metaSize,
		Free: metaSize - used(metaSize, meta)})
	if meta >= metadataWarn && r.State == sdk.PoolUp {
		r.State = sdk.PoolDegraded
		r.StateReason = fmt.Sprintf("thin pool %s metadata is %.1f%% full", p.ThinPool, meta)
	}
	return r
}

// vgMetadata is the VG's metadata area as a Resource. lvm2 writes metadata into half of the
// area (it is a ring that keeps the previous copy), so half is the usable total.
func vgMetadata(vg vgRow) sdk.Resource {
	free := byteCount(vg.MdaFree)
	return sdk.Resource{Name: "vg_metadata", Total: max(byteCount(vg.MdaSize)/2, free), Free: free}
}

func down(r sdk.Pool, why string) sdk.Pool {
	r.State, r.StateReason, r.CapacityUnknown = sdk.PoolDown, why, true
	r.Features = &sdk.FeatureSet{}
	return r
}

func lvmType(p PoolConfig) string {
	if p.thin() {
		return "thin"
	}
	return "thick"
}

// features is what a pool offers: everything the driver implements when devices can be
// activated, only extend when they cannot (snapshots and copies need device-mapper). A
// volume's snapshots keep it from being deleted, thin or thick.
func (d *Driver) features(p PoolConfig) *sdk.FeatureSet {
	if !d.active {
		return &sdk.FeatureSet{Extend: !p.thin()}
	}
	return &sdk.FeatureSet{Snapshots: true, CreateFromSnapshot: true, Clone: true, Extend: true}
}
