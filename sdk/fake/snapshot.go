package fake

import (
	"context"

	"github.com/kilnstorage/kiln/sdk"
)

// CreateSnapshot snapshots req.Volume; it is idempotent by req.ID. A snapshot records its
// source's size and takes no space.
func (d *Driver) CreateSnapshot(ctx context.Context, req sdk.CreateSnapshotRequest) (sdk.Snapshot, error) {
	if err := d.faults.before(ctx, OpCreateSnapshot); err != nil {
		return sdk.Snapshot{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if s, ok := d.st.Snapshots[req.ID]; ok {
		if s.SourceVolumeID != req.Volume.ID {
			return sdk.Snapshot{}, sdk.ErrorAlreadyExists("snapshot", req.ID, "source volume")
		}
		return s.view(), nil
	}
	v, ok := d.st.volume(req.Volume.ID)
	if !ok {
		return sdk.Snapshot{}, d.missing("volume", req.Volume.ID)
	}
	s := snapshot{ID: req.ID, Name: req.Name, SourceVolumeID: v.ID, Pool: v.Pool,
		SizeBytes: v.SizeBytes, Params: req.Params}
	if err := d.apply(change{PutSnapshots: []snapshot{s}}); err != nil {
		return sdk.Snapshot{}, err
	}
	return s.view(), nil
}

// DeleteSnapshot deletes the snapshot; a missing one is success.
func (d *Driver) DeleteSnapshot(ctx context.Context, ref sdk.SnapshotRef) error {
	if err := d.faults.before(ctx, OpDeleteSnapshot); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.st.Snapshots[ref.ID]; !ok {
		return nil
	}
	return d.apply(change{DeleteSnapshots: []string{ref.ID}})
}
