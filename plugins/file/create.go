package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"time"

	"github.com/kilnstorage/kiln/sdk"
)

// origin is what a new volume is made from: nothing, a snapshot or another volume.
type origin struct {
	snapshot *sdk.SnapshotRef
	volume   *sdk.VolumeRef
}

// CreateVolume creates an empty volume: a sparse file (thin) or a preallocated one (thick). It
// is idempotent by req.ID.
func (d *Driver) CreateVolume(ctx context.Context, req sdk.CreateVolumeRequest) (sdk.Volume, error) {
	return d.create(ctx, req, origin{})
}

// CreateVolumeFromSnapshot creates a volume holding snapshot src's data, at least as large as
// it, in any pool.
func (d *Driver) CreateVolumeFromSnapshot(ctx context.Context, req sdk.CreateVolumeRequest, src sdk.SnapshotRef) (sdk.Volume, error) {
	return d.create(ctx, req, origin{snapshot: &src})
}

// CloneVolume creates a volume holding volume src's data, at least as large as it, in any
// pool.
func (d *Driver) CloneVolume(ctx context.Context, req sdk.CreateVolumeRequest, src sdk.VolumeRef) (sdk.Volume, error) {
	return d.create(ctx, req, origin{volume: &src})
}

func (d *Driver) create(ctx context.Context, req sdk.CreateVolumeRequest, from origin) (sdk.Volume, error) {
	if err := checkID("volume", req.ID); err != nil {
		return sdk.Volume{}, err
	}
	s, err := d.openPool(req.Pool)
	if err != nil {
		return sdk.Volume{}, err
	}
	defer s.close()
	want, err := s.request(req, from)
	if err != nil {
		return sdk.Volume{}, err
	}
	if v, found, err := d.existing(want, req.Pool); found || err != nil {
		return v, err
	}
	src, err := d.source(from)
	if err != nil {
		return sdk.Volume{}, err
	}
	if src != nil {
		defer src.close()
		if src.obj.size > req.SizeBytes {
			return sdk.Volume{}, sdk.ErrorOutOfRange(req.Pool, req.SizeBytes,
				fmt.Sprintf("is smaller than its source's %d bytes", src.obj.size))
		}
	}
	want.CopyMethod, err = s.build("volume", req.ID, 0o600, func(f *os.File) (string, error) {
		return s.fill(ctx, f, src, req.SizeBytes, want.Thin)
	})
	if err == nil {
		err = s.commit("volume", volumesDir, want)
	}
	if err != nil {
		return sdk.Volume{}, s.fail("create volume "+req.ID, req.SizeBytes, err)
	}
	return reload(s, volumesDir, req.ID, site.volume)
}

// request is the record req asks for in the pool.
func (s site) request(req sdk.CreateVolumeRequest, from origin) (record, error) {
	thin := s.p.cfg.Thin
	if req.Thin != nil {
		thin = *req.Thin
	}
	switch {
	case thin && !s.p.cfg.Thin:
		return record{}, sdk.ErrorInvalid("thin", "pool "+s.p.cfg.Name+" offers no thin volumes")
	case !thin && !(s.p.cfg.Thick && s.info.fallocate):
		return record{}, sdk.ErrorInvalid("thin", "pool "+s.p.cfg.Name+" offers no thick volumes")
	}
	rec := record{ID: req.ID, Name: req.Name, RequestedBytes: req.SizeBytes, Thin: thin,
		Params: req.Params, Labels: req.Labels, CreatedAt: time.Now().UTC()}
	switch {
	case from.snapshot != nil:
		rec.SourceSnapshotID = from.snapshot.ID
	case from.volume != nil:
		rec.SourceVolumeID = from.volume.ID
	}
	return rec, nil
}

// existing answers a create whose ID is taken, in whichever pool: the volume itself when the
// request is the same, else AlreadyExists naming what differs. found is false when the ID is
// free.
func (d *Driver) existing(want record, pool string) (sdk.Volume, bool, error) {
	s, old, err := d.find(volumesDir, want.ID, pool)
	switch {
	case sdk.CodeOf(err) == sdk.NotFound:
		return sdk.Volume{}, false, nil
	case err != nil:
		return sdk.Volume{}, true, err
	}
	defer s.close()
	var why string
	switch r := old.rec; {
	case s.p.cfg.Name != pool:
		why = "pool"
	case r.RequestedBytes != want.RequestedBytes:
		why = "size"
	case r.Thin != want.Thin:
		why = "provisioning"
	case r.SourceSnapshotID != want.SourceSnapshotID, r.SourceVolumeID != want.SourceVolumeID:
		why = "source"
	case !maps.Equal(r.Params, want.Params):
		why = "params"
	default:
		return s.volume(old), true, nil
	}
	return sdk.Volume{}, true, sdk.ErrorAlreadyExists("volume", want.ID, why)
}

// source finds what a volume is made from; nil for an empty volume. A missing source is
// NotFound.
func (d *Driver) source(from origin) (*source, error) {
	var dir, id, hint string
	switch {
	case from.snapshot != nil:
		dir, id, hint = snapshotsDir, from.snapshot.ID, from.snapshot.Pool
	case from.volume != nil:
		dir, id, hint = volumesDir, from.volume.ID, from.volume.Pool
	default:
		return nil, nil
	}
	s, o, err := d.find(dir, id, hint)
	if err != nil {
		return nil, err
	}
	return &source{site: s, name: dataName(dir, id), obj: o}, nil
}

// reload reads back the object just written, as the host sees it.
func reload[T any](s site, dir, id string, view func(site, object) T) (T, error) {
	o, ok, err := s.load(dir, id)
	if err == nil && !ok {
		err = fmt.Errorf("%s %s vanished after it was written", kinds[dir], id)
	}
	if err != nil {
		var zero T
		return zero, s.fail("read "+kinds[dir]+" "+id, 0, err)
	}
	return view(s, o), nil
}
