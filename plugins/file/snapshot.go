package main

import (
	"context"
	"os"
	"time"

	"github.com/kilnstorage/kiln/sdk"
)

// snapshotMode makes a snapshot's file read-only: nothing writes to it after it is made.
const snapshotMode os.FileMode = 0o400

// CreateSnapshot copies the volume's file into a read-only file of the same pool, by reflink
// where the pool uses it, else by a sparse copy; it is idempotent by req.ID. A snapshot is a
// file of its own, so it outlives its volume. A reflink is taken atomically; a sparse copy of
// a volume that is being written while it is copied is not a point-in-time image, which is why
// the host snapshots attached volumes only when forced (as Cinder does).
func (d *Driver) CreateSnapshot(ctx context.Context, req sdk.CreateSnapshotRequest) (sdk.Snapshot, error) {
	if s, done, err := d.existingSnapshot(req); done || err != nil {
		return s, err
	}
	s, vol, err := d.find(volumesDir, req.Volume.ID, req.Volume.Pool)
	if err != nil {
		return sdk.Snapshot{}, err
	}
	defer s.close()
	rec := record{ID: req.ID, Name: req.Name, RequestedBytes: vol.size, Thin: true,
		SourceVolumeID: vol.rec.ID, Params: req.Params, CreatedAt: time.Now().UTC()}
	src := &source{site: s, name: dataName(volumesDir, vol.rec.ID), obj: vol}
	rec.CopyMethod, err = s.build("snapshot", req.ID, snapshotMode, func(f *os.File) (string, error) {
		return s.fill(ctx, f, src, vol.size, true)
	})
	if err == nil {
		err = s.commit("snapshot", snapshotsDir, rec)
	}
	if err != nil {
		return sdk.Snapshot{}, s.fail("create snapshot "+req.ID, vol.allocated, err)
	}
	return reload(s, snapshotsDir, req.ID, site.snapshot)
}

// existingSnapshot answers a create whose snapshot ID is taken: the snapshot when it is of the
// same volume, else AlreadyExists. done is false when the ID is free.
func (d *Driver) existingSnapshot(req sdk.CreateSnapshotRequest) (sdk.Snapshot, bool, error) {
	if err := checkID("volume", req.Volume.ID); err != nil {
		return sdk.Snapshot{}, true, err
	}
	s, o, err := d.find(snapshotsDir, req.ID, req.Volume.Pool)
	switch {
	case sdk.CodeOf(err) == sdk.NotFound:
		return sdk.Snapshot{}, false, nil
	case err != nil:
		return sdk.Snapshot{}, true, err
	}
	defer s.close()
	if o.rec.SourceVolumeID != req.Volume.ID {
		return sdk.Snapshot{}, true, sdk.ErrorAlreadyExists("snapshot", req.ID, "source volume")
	}
	return s.snapshot(o), true, nil
}

// DeleteSnapshot removes the snapshot's record and file; a missing snapshot is success.
func (d *Driver) DeleteSnapshot(_ context.Context, ref sdk.SnapshotRef) error {
	return d.delete("snapshot", snapshotsDir, ref.ID, ref.Pool)
}
