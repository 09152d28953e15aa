package main

import (
	"context"
	"errors"

	"github.com/kilnstorage/kiln/sdk"
)

// CreateSnapshot snapshots a volume: a thin snapshot in a thin pool, which costs nothing until
// either side is written; a copy-on-write snapshot in a thick pool, which reserves the origin's
// size in the VG, as Cinder's does. Both need device-mapper.
func (d *Driver) CreateSnapshot(ctx context.Context, req sdk.CreateSnapshotRequest) (sdk.Snapshot, error) {
	p, err := d.poolOf(req.Volume.Pool, req.Volume.ProviderData)
	if err != nil {
		return sdk.Snapshot{}, err
	}
	if err := d.needActivation("CreateSnapshot", p.Name); err != nil {
		return sdk.Snapshot{}, err
	}
	if err := checkID("id", req.ID); err != nil {
		return sdk.Snapshot{}, err
	}
	if err := checkID("volume.id", req.Volume.ID); err != nil {
		return sdk.Snapshot{}, err
	}
	origin := lvRef{vg: p.VG, name: volumePrefix + req.Volume.ID}
	src, err := d.find(ctx, d.scope(p, "volume", req.Volume.ID), origin)
	if err != nil {
		return sdk.Snapshot{}, err
	}
	name := snapshotPrefix + req.ID
	tags := []string{tag(tagID, req.ID), tag(tagKind, kindSnapshot), tag(tagSourceVolume, req.Volume.ID)}
	var cow int64
	if !src.thin() {
		cow = byteCount(src.Size)
	}
	sc := d.scope(p, "volume", req.Volume.ID)
	err = d.mutate(ctx, p.VG, sc, snapshotArgs(origin, name, cow, tags)...)
	if errors.Is(err, sdk.ErrAlreadyExists) {
		return d.existingSnapshot(ctx, p, req)
	}
	if err != nil {
		return sdk.Snapshot{}, err
	}
	return sdk.Snapshot{ID: req.ID, SourceVolumeID: req.Volume.ID, Pool: p.Name,
		SizeBytes: byteCount(src.Size), Ready: true,
		ProviderData: providerData(p.VG, name, thinPoolOf(src))}, nil
}

// existingSnapshot answers a repeated CreateSnapshot: the snapshot when it is of the same
// volume, AlreadyExists when not.
func (d *Driver) existingSnapshot(ctx context.Context, p PoolConfig, req sdk.CreateSnapshotRequest) (sdk.Snapshot, error) {
	row, err := d.find(ctx, d.scope(p, "snapshot", req.ID), lvRef{vg: p.VG, name: snapshotPrefix + req.ID})
	if err != nil {
		return sdk.Snapshot{}, err
	}
	t := row.tags()
	if t[tagKind] != kindSnapshot || t[tagSourceVolume] != req.Volume.ID {
		return sdk.Snapshot{}, sdk.ErrorAlreadyExists("snapshot", req.ID, "source volume")
	}
	return snapshotOf(row, p.Name), nil
}

// DeleteSnapshot removes a snapshot's LV, wiping a thick snapshot's copy-on-write store first;
// a missing one is success.
func (d *Driver) DeleteSnapshot(ctx context.Context, ref sdk.SnapshotRef) error {
	p, err := d.poolOf(ref.Pool, ref.ProviderData)
	if err != nil {
		return err
	}
	if err := checkID("id", ref.ID); err != nil {
		return err
	}
	lv, sc := lvRef{vg: p.VG, name: snapshotPrefix + ref.ID}, d.scope(p, "snapshot", ref.ID)
	row, err := d.find(ctx, sc, lv)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if row.tags()[tagKind] != kindSnapshot {
		return sdk.ErrorInUse("NOT_A_SNAPSHOT", "LV "+lv.String()+" is not the driver's snapshot "+ref.ID)
	}
	if d.active {
		if err := d.clear(ctx, p, row, sc); err != nil {
			return err
		}
	}
	if err := d.mutate(ctx, p.VG, sc, removeArgs(lv, true)...); err != nil && !isNotFound(err) {
		return err
	}
	return nil
}

// snapshotSource returns the lvs line of the snapshot a restore reads, or NotFound.
func (d *Driver) snapshotSource(ctx context.Context, p PoolConfig, ref sdk.SnapshotRef) (lvRow, error) {
	if err := checkID("source_snapshot.id", ref.ID); err != nil {
		return lvRow{}, err
	}
	row, err := d.find(ctx, d.scope(p, "snapshot", ref.ID), lvRef{vg: p.VG, name: snapshotPrefix + ref.ID})
	if err == nil && row.tags()[tagKind] != kindSnapshot {
		return lvRow{}, sdk.ErrorNotFound("snapshot", ref.ID)
	}
	return row, err
}
