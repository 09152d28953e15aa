package main

import (
	"context"

	"github.com/kilnstorage/kiln/sdk"
)

// ExtendVolume grows a volume's LV to size bytes; a size at or below the current one changes
// nothing. lvm2 resizes a thick snapshot origin only while it is inactive, so with activation
// on such a volume is deactivated, extended and activated again (as Cinder does); an attached
// one cannot be deactivated and the extend is InUse.
func (d *Driver) ExtendVolume(ctx context.Context, ref sdk.VolumeRef, size int64) (sdk.Volume, error) {
	p, err := d.poolOf(ref.Pool, ref.ProviderData)
	if err != nil {
		return sdk.Volume{}, err
	}
	if err := checkID("id", ref.ID); err != nil {
		return sdk.Volume{}, err
	}
	lv, sc := lvRef{vg: p.VG, name: volumePrefix + ref.ID}, d.scope(p, "volume", ref.ID)
	row, err := d.find(ctx, sc, lv)
	if err != nil {
		return sdk.Volume{}, err
	}
	if size <= byteCount(row.Size) {
		return volumeOf(row, p.Name), nil
	}
	if d.active && row.cowOrigin() && row.active() {
		err = d.extendInactive(ctx, p, lv, sc, size)
	} else {
		err = d.mutate(ctx, p.VG, sc, extendArgs(lv, size)...)
	}
	if err != nil {
		return sdk.Volume{}, err
	}
	if row, err = d.find(ctx, sc, lv); err != nil {
		return sdk.Volume{}, err
	}
	return volumeOf(row, p.Name), nil
}

// extendInactive extends a thick snapshot origin between a deactivation and an activation; the
// activation runs even when the extend fails, on a context of its own.
func (d *Driver) extendInactive(ctx context.Context, p PoolConfig, lv lvRef, sc scope, size int64) error {
	if err := d.mutate(ctx, p.VG, sc, activateArgs(lv, false)...); err != nil {
		return err
	}
	err := d.mutate(ctx, p.VG, sc, extendArgs(lv, size)...)
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if aerr := d.mutate(actx, p.VG, sc, activateArgs(lv, true)...); aerr != nil && err == nil {
		err = aerr
	}
	return err
}
