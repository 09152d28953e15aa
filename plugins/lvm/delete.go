package main

import (
	"context"

	"github.com/kilnstorage/kiln/sdk"
)

// DeleteVolume removes a volume's LV; a missing one is success. A volume with snapshots is
// InUse. With activation on, a thick volume is wiped first (Config.Wipe).
//
// With activation off no LV is active and no device exists, so there is nothing to wipe and
// the delete is the bare lvremove: without --force, lvm2 asks before removing a snapshot
// origin together with its snapshots, reads end of file and refuses, and only then does lvs
// tell InUse from another failure.
func (d *Driver) DeleteVolume(ctx context.Context, ref sdk.VolumeRef) error {
	p, err := d.poolOf(ref.Pool, ref.ProviderData)
	if err != nil {
		return err
	}
	if err := checkID("id", ref.ID); err != nil {
		return err
	}
	lv, sc := lvRef{vg: p.VG, name: volumePrefix + ref.ID}, d.scope(p, "volume", ref.ID)
	if !d.active {
		err := d.mutate(ctx, p.VG, sc, removeArgs(lv, false)...)
		if err == nil || isNotFound(err) {
			return nil
		}
		if _, derr := d.dependents(ctx, lv, sc); derr != nil {
			return derr
		}
		return err
	}
	self, err := d.dependents(ctx, lv, sc)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := d.clear(ctx, p, self, sc); err != nil {
		return err
	}
	if err := d.mutate(ctx, p.VG, sc, removeArgs(lv, true)...); err != nil && !isNotFound(err) {
		return err
	}
	return nil
}

// dependents returns lv's own lvs line after checking what depends on it: a snapshot (the
// driver's or anyone's) makes it InUse; a temporary clone snapshot left by a failed clone is
// removed; a thin copy made from it does not depend on it.
func (d *Driver) dependents(ctx context.Context, lv lvRef, sc scope) (lvRow, error) {
	out, err := d.lvm.run(ctx, sc, dependentsArgs(lv)...)
	if err != nil {
		return lvRow{}, err
	}
	rows, err := parseLVs(out)
	if err != nil {
		return lvRow{}, sdk.ErrorInternal(err)
	}
	var self *lvRow
	for i, r := range rows {
		t := r.tags()
		switch {
		case r.Name == lv.name:
			self = &rows[i]
		case t[tagKind] == kindTemporary:
			if err := d.mutate(ctx, lv.vg, sc, removeArgs(lvRef{vg: lv.vg, name: r.Name}, true)...); err != nil {
				return lvRow{}, err
			}
		case t[tagKind] == kindVolume && r.thin():
		default:
			return lvRow{}, sdk.ErrorInUse("VOLUME_HAS_SNAPSHOTS",
				"volume "+sc.id+" has snapshot "+r.Name+"; delete its snapshots first")
		}
	}
	if self == nil {
		return lvRow{}, sdk.ErrorNotFound("volume", sc.id)
	}
	return *self, nil
}

// clear wipes a thick LV's data before it is removed, activating it if it is not, so that its
// extents reach the next volume as zeros (sdk.md §6.7 I10). Thin LVs are not wiped: a thin pool
// hands out zeroed chunks.
func (d *Driver) clear(ctx context.Context, p PoolConfig, row lvRow, sc scope) error {
	if d.wipe == "none" || row.thin() {
		return nil
	}
	lv := lvRef{vg: row.VG, name: row.Name}
	if !row.active() {
		if err := d.mutate(ctx, p.VG, sc, activateArgs(lv, true)...); err != nil {
			return err
		}
	}
	dev := lv.device()
	if row.cowSnapshot() {
		dev = lv.cow() // what a thick snapshot holds of its own is its copy-on-write store
	}
	if err := d.dev.wipe(ctx, dev, d.wipe); err != nil {
		return err
	}
	d.log.Debug("wiped", "lv", lv.String(), "device", dev, "mode", d.wipe)
	return nil
}
