package sdk

import (
	"context"
	"fmt"
)

func volumeKey(id string) string   { return "volume/" + id }
func snapshotKey(id string) string { return "snapshot/" + id }

// fitSize rounds size up to the pool's granularity and checks the pool's bounds.
func fitSize(p Pool, field string, size int64) (int64, error) {
	if size <= 0 {
		return 0, ErrorInvalid(field, fmt.Sprintf("must be positive, got %d", size))
	}
	g := max(p.GranularityBytes, 1)
	if rem := size % g; rem != 0 {
		if size > (1<<63-1)-(g-rem) {
			return 0, ErrorOutOfRange(p.Name, size, "overflows when rounded to the pool's granularity")
		}
		size += g - rem
	}
	switch {
	case p.MinVolumeBytes > 0 && size < p.MinVolumeBytes:
		return 0, ErrorOutOfRange(p.Name, size, fmt.Sprintf("is below the pool's minimum of %d", p.MinVolumeBytes))
	case p.MaxVolumeBytes > 0 && size > p.MaxVolumeBytes:
		return 0, ErrorOutOfRange(p.Name, size, fmt.Sprintf("exceeds the pool's maximum of %d", p.MaxVolumeBytes))
	}
	return size, nil
}

func unsupported(op, pool string) *Error {
	e := ErrorUnsupported(op)
	if pool != "" {
		e.Pool, e.Message = pool, op+" is not supported by pool "+pool
	}
	return e
}

// checkCreate validates a create request and rounds its size.
func (c *core) checkCreate(ctx context.Context, req *CreateVolumeRequest, src source) error {
	g, err := c.current()
	if err != nil {
		return err
	}
	caps := g.caps
	if req.ID == "" {
		return ErrorInvalid("id", "required")
	}
	switch {
	case src.snapshot != nil && !caps.CreateFromSnapshot:
		return unsupported("creating a volume from a snapshot", "")
	case src.volume != nil && !caps.Clone:
		return unsupported("cloning a volume", "")
	case src.snapshot != nil && src.snapshot.ID == "":
		return ErrorInvalid("source_snapshot.id", "required")
	case src.volume != nil && src.volume.ID == "":
		return ErrorInvalid("source_volume.id", "required")
	case src.volume != nil && src.volume.ID == req.ID:
		return ErrorInvalid("source_volume.id", "a volume cannot be cloned onto itself")
	}
	p, err := c.pool(ctx, req.Pool)
	if err != nil {
		return err
	}
	switch {
	case src.snapshot != nil && !p.Features.CreateFromSnapshot:
		return unsupported("creating a volume from a snapshot", p.Name)
	case src.volume != nil && !p.Features.Clone:
		return unsupported("cloning a volume", p.Name)
	case req.Thin != nil && *req.Thin && !p.Thin:
		return ErrorInvalid("thin", "pool "+p.Name+" offers no thin provisioning")
	case req.Thin != nil && !*req.Thin && !p.Thick:
		return ErrorInvalid("thin", "pool "+p.Name+" offers no thick provisioning")
	}
	req.SizeBytes, err = fitSize(p, "size_bytes", req.SizeBytes)
	return err
}

func (c *core) createVolume(ctx context.Context, req CreateVolumeRequest, src source) (Volume, error) {
	if err := c.checkCreate(ctx, &req, src); err != nil {
		return Volume{}, err
	}
	keys := []string{volumeKey(req.ID)}
	switch {
	case src.snapshot != nil:
		keys = append(keys, snapshotKey(src.snapshot.ID))
	case src.volume != nil:
		keys = append(keys, volumeKey(src.volume.ID))
	}
	var v Volume
	err := c.run(ctx, "CreateVolume", keys, func(ctx context.Context, g *generation) (err error) {
		switch {
		case src.snapshot != nil:
			v, err = g.drv.(SnapshotRestorer).CreateVolumeFromSnapshot(ctx, req, *src.snapshot)
		case src.volume != nil:
			v, err = g.drv.(Cloner).CloneVolume(ctx, req, *src.volume)
		default:
			v, err = g.drv.CreateVolume(ctx, req)
		}
		return err
	})
	if err != nil {
		return Volume{}, err
	}
	return checkVolume(v, req.ID, req.Pool, req.SizeBytes)
}

// checkVolume fills a returned volume's omitted ID and pool and rejects one that cannot be the
// volume asked for.
func checkVolume(v Volume, id, pool string, minSize int64) (Volume, error) {
	if v.ID == "" {
		v.ID = id
	}
	if v.Pool == "" {
		v.Pool = pool
	}
	switch {
	case v.ID != id:
		return Volume{}, &Error{Code: Internal, Reason: "DRIVER_RETURNED_WRONG_VOLUME",
			Message: fmt.Sprintf("driver returned volume %q for %q", v.ID, id)}
	case v.SizeBytes < minSize:
		return Volume{}, &Error{Code: Internal, Reason: "DRIVER_RETURNED_SMALL_VOLUME",
			Message: fmt.Sprintf("driver returned %d bytes for volume %s, %d asked", v.SizeBytes, id, minSize)}
	}
	return v, nil
}

func (c *core) deleteVolume(ctx context.Context, vol VolumeRef) error {
	if vol.ID == "" {
		return ErrorInvalid("id", "required")
	}
	return c.run(ctx, "DeleteVolume", []string{volumeKey(vol.ID)}, func(ctx context.Context, g *generation) error {
		return g.drv.DeleteVolume(ctx, vol)
	})
}

// need reports an error unless the configured driver has the capability.
func (c *core) need(has func(Capabilities) bool, op string) error {
	g, err := c.current()
	if err != nil {
		return err
	}
	if !has(g.caps) {
		return unsupported(op, "")
	}
	return nil
}

func (c *core) getVolume(ctx context.Context, vol VolumeRef) (Volume, error) {
	if err := c.need(func(c Capabilities) bool { return c.Inspect }, "GetVolume"); err != nil {
		return Volume{}, err
	}
	if vol.ID == "" {
		return Volume{}, ErrorInvalid("id", "required")
	}
	var v Volume
	err := c.run(ctx, "GetVolume", nil, func(ctx context.Context, g *generation) (err error) {
		v, err = g.drv.(Inspector).GetVolume(ctx, vol)
		return err
	})
	return v, err
}

func (c *core) listVolumes(ctx context.Context, req ListRequest) (ListPage, error) {
	if err := c.need(func(c Capabilities) bool { return c.List }, "ListVolumes"); err != nil {
		return ListPage{}, err
	}
	if req.Limit < 0 {
		return ListPage{}, ErrorInvalid("limit", "must not be negative")
	}
	var page ListPage
	err := c.run(ctx, "ListVolumes", nil, func(ctx context.Context, g *generation) (err error) {
		page, err = g.drv.(Lister).ListVolumes(ctx, req)
		return err
	})
	return page, err
}

func (c *core) extendVolume(ctx context.Context, vol VolumeRef, size int64) (Volume, error) {
	if err := c.need(func(c Capabilities) bool { return c.Extend }, "ExtendVolume"); err != nil {
		return Volume{}, err
	}
	if vol.ID == "" {
		return Volume{}, ErrorInvalid("id", "required")
	}
	p, err := c.pool(ctx, vol.Pool)
	if err != nil {
		return Volume{}, err
	}
	if !p.Features.Extend {
		return Volume{}, unsupported("ExtendVolume", p.Name)
	}
	if size, err = fitSize(p, "new_size_bytes", size); err != nil {
		return Volume{}, err
	}
	var v Volume
	err = c.run(ctx, "ExtendVolume", []string{volumeKey(vol.ID)}, func(ctx context.Context, g *generation) (err error) {
		v, err = g.drv.(Extender).ExtendVolume(ctx, vol, size)
		return err
	})
	if err != nil {
		return Volume{}, err
	}
	return checkVolume(v, vol.ID, vol.Pool, size)
}

func (c *core) createSnapshot(ctx context.Context, req CreateSnapshotRequest) (Snapshot, error) {
	if err := c.need(func(c Capabilities) bool { return c.Snapshots }, "CreateSnapshot"); err != nil {
		return Snapshot{}, err
	}
	switch {
	case req.ID == "":
		return Snapshot{}, ErrorInvalid("id", "required")
	case req.Volume.ID == "":
		return Snapshot{}, ErrorInvalid("volume.id", "required")
	}
	if req.Volume.Pool != "" {
		p, err := c.pool(ctx, req.Volume.Pool)
		if err != nil {
			return Snapshot{}, err
		}
		if !p.Features.Snapshots {
			return Snapshot{}, unsupported("CreateSnapshot", p.Name)
		}
	}
	var s Snapshot
	keys := []string{snapshotKey(req.ID), volumeKey(req.Volume.ID)}
	err := c.run(ctx, "CreateSnapshot", keys, func(ctx context.Context, g *generation) (err error) {
		s, err = g.drv.(Snapshotter).CreateSnapshot(ctx, req)
		return err
	})
	return s, err
}

func (c *core) deleteSnapshot(ctx context.Context, snap SnapshotRef) error {
	if err := c.need(func(c Capabilities) bool { return c.Snapshots }, "DeleteSnapshot"); err != nil {
		return err
	}
	if snap.ID == "" {
		return ErrorInvalid("id", "required")
	}
	keys := []string{snapshotKey(snap.ID)}
	if snap.SourceVolumeID != "" {
		keys = append(keys, volumeKey(snap.SourceVolumeID))
	}
	return c.run(ctx, "DeleteSnapshot", keys, func(ctx context.Context, g *generation) error {
		return g.drv.(Snapshotter).DeleteSnapshot(ctx, snap)
	})
}

func (c *core) connect(ctx context.Context, vol VolumeRef, to Initiator) (Connection, error) {
	if err := c.need(func(c Capabilities) bool { return c.Connect }, "Connect"); err != nil {
		return Connection{}, err
	}
	if vol.ID == "" {
		return Connection{}, ErrorInvalid("id", "required")
	}
	var conn Connection
	err := c.run(ctx, "Connect", []string{volumeKey(vol.ID)}, func(ctx context.Context, g *generation) (err error) {
		conn, err = g.drv.(Connector).Connect(ctx, vol, to)
		return err
	})
	return conn, err
}

func (c *core) disconnect(ctx context.Context, vol VolumeRef, from Initiator) error {
	if err := c.need(func(c Capabilities) bool { return c.Connect }, "Disconnect"); err != nil {
		return err
	}
	if vol.ID == "" {
		return ErrorInvalid("id", "required")
	}
	return c.run(ctx, "Disconnect", []string{volumeKey(vol.ID)}, func(ctx context.Context, g *generation) error {
		return g.drv.(Connector).Disconnect(ctx, vol, from)
	})
}
