package fake

import (
	"context"
	"fmt"

	"github.com/kilnstorage/kiln/sdk"
)

// defaultPageSize is the page size of a ListVolumes call without a limit.
const defaultPageSize = 100

// DeleteVolume deletes the volume; a missing one is success. A volume with snapshots is InUse
// unless its pool has independent snapshots, which then survive it.
func (d *Driver) DeleteVolume(ctx context.Context, ref sdk.VolumeRef) error {
	if err := d.faults.before(ctx, OpDeleteVolume); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.st.volume(ref.ID)
	switch {
	case !ok && d.faults.has(BugDeleteMissingErrors):
		return sdk.ErrorNotFound("volume", ref.ID)
	case !ok:
		return nil
	}
	if n := d.st.snapshotsOf(v.ID); n > 0 && !d.features(v.Pool).IndependentSnapshots {
		return sdk.ErrorInUse("VOLUME_HAS_SNAPSHOTS", fmt.Sprintf("volume %s has %d snapshots", v.ID, n))
	}
	leak := d.faults.has(BugLeakCapacityOnDelete)
	return d.apply(d.st.deleteVolume(v.ID, leak))
}

// GetVolume returns the volume or a NotFound error.
func (d *Driver) GetVolume(ctx context.Context, ref sdk.VolumeRef) (sdk.Volume, error) {
	if err := d.faults.before(ctx, OpGetVolume); err != nil {
		return sdk.Volume{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.st.volume(ref.ID)
	if !ok {
		return sdk.Volume{}, sdk.ErrorNotFound("volume", ref.ID)
	}
	return v.view(), nil
}

// ListVolumes returns one page of volumes ordered by ID. The page token is the ID of the last
// volume of the previous page.
func (d *Driver) ListVolumes(ctx context.Context, req sdk.ListRequest) (sdk.ListPage, error) {
	if err := d.faults.before(ctx, OpListVolumes); err != nil {
		return sdk.ListPage{}, err
	}
	d.mu.Lock()
	vols := d.st.list(req.Pool, req.PageToken)
	d.mu.Unlock()
	limit := req.Limit
	if limit <= 0 {
		limit = defaultPageSize
	}
	var page sdk.ListPage
	if len(vols) > limit {
		vols = vols[:limit]
		page.NextPageToken = vols[limit-1].ID
	}
	for _, v := range vols {
		page.Volumes = append(page.Volumes, v.view())
	}
	return page, nil
}

// ExtendVolume grows the volume to size; a size at or below the current one returns the
// volume unchanged. A thick volume takes the extra bytes from its pool.
func (d *Driver) ExtendVolume(ctx context.Context, ref sdk.VolumeRef, size int64) (sdk.Volume, error) {
	if err := d.faults.before(ctx, OpExtendVolume); err != nil {
		return sdk.Volume{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.st.volume(ref.ID)
	switch {
	case !ok:
		return sdk.Volume{}, sdk.ErrorNotFound("volume", ref.ID)
	case size <= v.SizeBytes:
		return v.view(), nil
	}
	if err := d.reserve(v.Pool, v.Thin, size-v.SizeBytes); err != nil {
		return sdk.Volume{}, err
	}
	v.SizeBytes = size
	if err := d.apply(change{PutVolumes: []volume{v}}); err != nil {
		return sdk.Volume{}, err
	}
	return v.view(), nil
}

// Connect exports the volume locally, as the device path /dev/fake/<id>.
func (d *Driver) Connect(ctx context.Context, ref sdk.VolumeRef, _ sdk.Initiator) (sdk.Connection, error) {
	if err := d.faults.before(ctx, OpConnect); err != nil {
		return sdk.Connection{}, err
	}
	d.mu.Lock()
	_, ok := d.st.volume(ref.ID)
	d.mu.Unlock()
	if !ok {
		return sdk.Connection{}, sdk.ErrorNotFound("volume", ref.ID)
	}
	return sdk.Connection{Protocol: "local", Data: map[string]string{"path": "/dev/fake/" + ref.ID}}, nil
}

// Disconnect removes the export, which the fake does not keep; it always succeeds.
func (d *Driver) Disconnect(ctx context.Context, _ sdk.VolumeRef, _ sdk.Initiator) error {
	return d.faults.before(ctx, OpDisconnect)
}
