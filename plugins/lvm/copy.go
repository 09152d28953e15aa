package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/kilnstorage/kiln/sdk"
)

// CreateVolumeFromSnapshot makes a volume of a snapshot's data. In a thin pool it is a thin
// snapshot of the snapshot, grown if asked for more; in a thick pool, a new LV that the
// snapshot's device is copied into. The volume stays in the snapshot's pool.
func (d *Driver) CreateVolumeFromSnapshot(ctx context.Context, req sdk.CreateVolumeRequest, src sdk.SnapshotRef) (sdk.Volume, error) {
	s, err := d.copySpec(req, "CreateVolumeFromSnapshot", src.Pool, src.ProviderData)
	if err != nil {
		return sdk.Volume{}, err
	}
	row, err := d.snapshotSource(ctx, s.pool, src)
	if err != nil {
		return sdk.Volume{}, err
	}
	s.srcSnap = src.ID
	return d.copyFrom(ctx, s, row, nil)
}

// CloneVolume copies a volume. In a thin pool the copy is a thin snapshot of the source that
// activates like a volume and shares its blocks; in a thick pool, a temporary copy-on-write
// snapshot of the source (for a consistent image, as in Cinder) is copied into a new LV and
// removed.
func (d *Driver) CloneVolume(ctx context.Context, req sdk.CreateVolumeRequest, src sdk.VolumeRef) (sdk.Volume, error) {
	s, err := d.copySpec(req, "CloneVolume", src.Pool, src.ProviderData)
	if err != nil {
		return sdk.Volume{}, err
	}
	if err := checkID("source_volume.id", src.ID); err != nil {
		return sdk.Volume{}, err
	}
	row, err := d.find(ctx, d.scope(s.pool, "volume", src.ID), lvRef{vg: s.pool.VG, name: volumePrefix + src.ID})
	if err != nil {
		return sdk.Volume{}, err
	}
	s.srcVol = src.ID
	if row.thin() {
		return d.copyFrom(ctx, s, row, nil)
	}
	tmp := lvRef{vg: s.pool.VG, name: clonePrefix + s.id}
	tags := []string{tag(tagID, s.id), tag(tagKind, kindTemporary), tag(tagSourceVolume, src.ID)}
	snap := func(ctx context.Context, sc scope) error {
		args := snapshotArgs(lvRef{vg: row.VG, name: row.Name}, tmp.name, byteCount(row.Size), tags)
		err := d.mutate(ctx, s.pool.VG, sc, args...)
		if errors.Is(err, sdk.ErrAlreadyExists) { // left by an attempt that died: take a fresh one
			if err = d.mutate(ctx, s.pool.VG, sc, removeArgs(tmp, true)...); err == nil {
				err = d.mutate(ctx, s.pool.VG, sc, args...)
			}
		}
		return err
	}
	return d.copyFrom(ctx, s, lvRow{VG: tmp.vg, Name: tmp.name, Size: row.Size}, snap)
}

// copySpec checks a copy's request: activation is on, and the copy stays in its source's pool.
func (d *Driver) copySpec(req sdk.CreateVolumeRequest, op, srcPool string, srcPD map[string]string) (spec, error) {
	s, err := d.spec(req)
	if err != nil {
		return spec{}, err
	}
	if err := d.needActivation(op, s.pool.Name); err != nil {
		return spec{}, err
	}
	sp, err := d.poolOf(srcPool, srcPD)
	if err != nil {
		return spec{}, err
	}
	if sp.Name != s.pool.Name {
		return spec{}, sdk.ErrorInvalid("pool", fmt.Sprintf("copies stay in their source's pool %s, not %s", sp.Name, s.pool.Name))
	}
	s.copy = true
	return s, nil
}

// copyFrom makes s from the source LV src. Thin: a thin snapshot of src, extended to s.size.
// Thick: an LV of s.size that src's device is copied into; prepare, if set, first makes src
// (the clone's temporary snapshot) and src is removed afterwards.
func (d *Driver) copyFrom(ctx context.Context, s spec, src lvRow, prepare func(context.Context, scope) error) (sdk.Volume, error) {
	srcSize := byteCount(src.Size)
	if src.cowSnapshot() && byteCount(src.OriginSize) > 0 {
		srcSize = byteCount(src.OriginSize)
	}
	if s.size < srcSize {
		return sdk.Volume{}, sdk.ErrorOutOfRange(s.pool.Name, s.size, fmt.Sprintf("is smaller than the source's %d bytes", srcSize))
	}
	from, sc := lvRef{vg: src.VG, name: src.Name}, d.scope(s.pool, "volume", s.id)
	if s.pool.thin() {
		grow := func(ctx context.Context) error {
			if s.size == srcSize {
				return nil
			}
			return d.mutate(ctx, s.pool.VG, sc, extendArgs(s.lv(), s.size)...)
		}
		return d.makeCopy(ctx, s, thinCopyArgs(from, s), grow)
	}
	fill := func(ctx context.Context) error {
		if prepare != nil {
			if err := prepare(ctx, sc); err != nil {
				return err
			}
			defer d.discard(s.pool, from, sc)
		} else if !src.active() {
			if err := d.mutate(ctx, s.pool.VG, sc, activateArgs(from, true)...); err != nil {
				return err
			}
		}
		return d.dev.copy(ctx, from.device(), s.lv().device(), srcSize)
	}
	return d.makeCopy(ctx, s, createArgs(s), fill)
}
