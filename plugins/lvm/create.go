package main

import (
	"context"
	"errors"
	"time"

	"github.com/kilnstorage/kiln/sdk"
)

// cleanupTimeout bounds the removal of what a failed or cancelled call left behind; it runs on
// a context the request's end does not cancel.
const cleanupTimeout = time.Minute

// CreateVolume creates an empty LV. The first attempt is the lvcreate itself, so that a create
// costs one lvm2 command; only when the LV already exists does lvs decide whether this is a
// repeat (the same volume) or a conflict (AlreadyExists).
func (d *Driver) CreateVolume(ctx context.Context, req sdk.CreateVolumeRequest) (sdk.Volume, error) {
	s, err := d.spec(req)
	if err != nil {
		return sdk.Volume{}, err
	}
	err = d.mutate(ctx, s.pool.VG, d.scope(s.pool, "volume", s.id), createArgs(s)...)
	if errors.Is(err, sdk.ErrAlreadyExists) {
		return d.existing(ctx, s)
	}
	if err != nil {
		return sdk.Volume{}, err
	}
	return s.volume(), nil
}

// spec checks a create request against the driver's rules and returns what it asks for.
func (d *Driver) spec(req sdk.CreateVolumeRequest) (spec, error) {
	p, err := d.pool(req.Pool)
	if err != nil {
		return spec{}, err
	}
	if err := checkID("id", req.ID); err != nil {
		return spec{}, err
	}
	if req.Thin != nil && *req.Thin != p.thin() {
		return spec{}, sdk.ErrorInvalid("thin", "pool "+p.Name+" offers only "+lvmType(p)+" volumes")
	}
	if err := d.usable(p); err != nil {
		return spec{}, err
	}
	return newSpec(p, req), nil
}

// existing answers a create whose LV exists: the volume when the LV matches s, AlreadyExists
// when it does not.
func (d *Driver) existing(ctx context.Context, s spec) (sdk.Volume, error) {
	row, err := d.find(ctx, d.scope(s.pool, "volume", s.id), s.lv())
	if isNotFound(err) { // removed since: the host serializes by ID, so only by hand
		return sdk.Volume{}, sdk.ErrorUnavailable("volume "+s.id+" vanished during its create; retry", time.Second)
	}
	if err != nil {
		return sdk.Volume{}, err
	}
	if why := s.differs(row); why != "" {
		return sdk.Volume{}, sdk.ErrorAlreadyExists("volume", s.id, why)
	}
	if d.active && !row.active() && !incomplete(row) {
		if err := d.mutate(ctx, s.pool.VG, d.scope(s.pool, "volume", s.id), activateArgs(s.lv(), true)...); err != nil {
			return sdk.Volume{}, err
		}
	}
	return volumeOf(row, s.pool.Name), nil
}

// makeCopy creates the LV of a copy with create, fills it with fill and then drops its
// incomplete tag. A repeat finds the LV: whole, it is the answer; still incomplete (the earlier
// call failed or was cancelled mid-copy), it is removed and made again.
func (d *Driver) makeCopy(ctx context.Context, s spec, create []string, fill func(context.Context) error) (sdk.Volume, error) {
	sc := d.scope(s.pool, "volume", s.id)
	err := d.mutate(ctx, s.pool.VG, sc, create...)
	if errors.Is(err, sdk.ErrAlreadyExists) {
		row, ferr := d.find(ctx, sc, s.lv())
		switch {
		case ferr != nil:
			return sdk.Volume{}, ferr
		case !incomplete(row) || s.differs(row) != "":
			return d.existing(ctx, s)
		}
		if err = d.mutate(ctx, s.pool.VG, sc, removeArgs(s.lv(), true)...); err == nil {
			err = d.mutate(ctx, s.pool.VG, sc, create...)
		}
	}
	if err != nil {
		return sdk.Volume{}, err
	}
	if err := fill(ctx); err != nil {
		d.discard(s.pool, s.lv(), sc)
		return sdk.Volume{}, err
	}
	if err := d.mutate(ctx, s.pool.VG, sc, completeArgs(s.lv())...); err != nil {
		return sdk.Volume{}, err
	}
	return s.volume(), nil
}

// discard removes an LV a failed call made, on a context of its own; a failure is logged, and
// the LV stays tagged incomplete for the next attempt to remove.
func (d *Driver) discard(p PoolConfig, lv lvRef, sc scope) {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	if err := d.mutate(ctx, p.VG, sc, removeArgs(lv, true)...); err != nil && !isNotFound(err) {
		d.log.Warn("could not remove what a failed call left", "lv", lv.String(), "error", err)
	}
}
