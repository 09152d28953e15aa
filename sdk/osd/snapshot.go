package osd

import (
	"context"

	"github.com/kilnstorage/kiln/sdk"
	"github.com/libopenstorage/openstorage/api"
)

// CreateSnapshot takes a read-only openstorage snapshot of req.Volume named req.ID, or returns
// the one that exists with the same source volume. It is Unsupported when the driver takes no
// snapshots.
func (a *Adapter) CreateSnapshot(ctx context.Context, req sdk.CreateSnapshotRequest) (sdk.Snapshot, error) {
	if !a.snapshots {
		return sdk.Snapshot{}, sdk.ErrorUnsupported("CreateSnapshot")
	}
	if req.ID == "" {
		return sdk.Snapshot{}, sdk.ErrorInvalid("id", "required")
	}
	keys := []string{snapshotKey(req.ID), volumeKey(req.Volume.ID)}
	return call(ctx, a, "CreateSnapshot", keys, func(ctx context.Context) (sdk.Snapshot, error) {
		return a.snapshot(ctx, req)
	})
}

func (a *Adapter) snapshot(ctx context.Context, req sdk.CreateSnapshotRequest) (sdk.Snapshot, error) {
	vol, err := a.get(volumeKind, req.Volume.ID, req.Volume.ProviderData)
	if err != nil {
		return sdk.Snapshot{}, err
	}
	existing, err := a.find(snapshotKind, req.ID, nil)
	switch {
	case err != nil:
		return sdk.Snapshot{}, err
	case existing != nil && existing.GetSource().GetParent() != vol.GetId():
		return sdk.Snapshot{}, sdk.ErrorAlreadyExists("snapshot", req.ID, "source volume")
	case existing != nil:
		return a.toSnapshot(existing)
	case ctx.Err() != nil:
		return sdk.Snapshot{}, ctx.Err()
	}
	osdID, err := a.vd.Snapshot(vol.GetId(), true, snapshotLocator(req, vol))
	switch {
	case err != nil:
		return sdk.Snapshot{}, fromOSD("Snapshot", err)
	case osdID == "":
		return sdk.Snapshot{}, internal("Snapshot", "the driver returned neither an ID nor an error")
	}
	snap, err := a.inspect("Snapshot", osdID)
	if err != nil {
		return sdk.Snapshot{}, err
	}
	return a.toSnapshot(snap)
}

// snapshotLocator names the snapshot req asks for and records its source volume and pool.
func snapshotLocator(req sdk.CreateSnapshotRequest, vol *api.Volume) *api.VolumeLocator {
	labels := map[string]string{LabelSnapshotID: req.ID, labelSourceVolume: req.Volume.ID}
	if p := vol.GetLocator().GetVolumeLabels()[labelPool]; p != "" {
		labels[labelPool] = p
	}
	return &api.VolumeLocator{Name: req.ID, VolumeLabels: labels}
}

// DeleteSnapshot deletes the snapshot named snap.ID; a missing one is success. It is
// Unsupported when the driver takes no snapshots.
func (a *Adapter) DeleteSnapshot(ctx context.Context, snap sdk.SnapshotRef) error {
	if !a.snapshots {
		return sdk.ErrorUnsupported("DeleteSnapshot")
	}
	_, err := call(ctx, a, "DeleteSnapshot", []string{snapshotKey(snap.ID)}, func(context.Context) (struct{}, error) {
		return struct{}{}, a.remove(snapshotKind, snap.ID, snap.ProviderData)
	})
	return err
}
