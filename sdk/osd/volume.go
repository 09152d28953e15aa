package osd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/kilnstorage/kiln/sdk"
	"github.com/libopenstorage/openstorage/api"
)

// DeleteVolume deletes the volume named vol.ID; a missing one is success. A driver that keeps
// volumes with snapshots answers ErrVolHasSnaps, an InUse error.
func (a *Adapter) DeleteVolume(ctx context.Context, vol sdk.VolumeRef) error {
	_, err := call(ctx, a, "DeleteVolume", []string{volumeKey(vol.ID)}, func(context.Context) (struct{}, error) {
		return struct{}{}, a.remove(volumeKind, vol.ID, vol.ProviderData)
	})
	return err
}

// remove deletes every object of kind k named id, duplicates included.
func (a *Adapter) remove(k kind, id string, pd map[string]string) error {
	vols, err := a.findAll(k, id, pd)
	if err != nil {
		return err
	}
	for _, v := range vols {
		err := fromOSD("Delete", a.vd.Delete(v.GetId()))
		if err != nil && !errors.Is(err, sdk.ErrNotFound) {
			return err
		}
	}
	return nil
}

// GetVolume returns the volume named vol.ID, or a NotFound error.
func (a *Adapter) GetVolume(ctx context.Context, vol sdk.VolumeRef) (sdk.Volume, error) {
	return call(ctx, a, "GetVolume", nil, func(context.Context) (sdk.Volume, error) {
		v, err := a.get(volumeKind, vol.ID, vol.ProviderData)
		if err != nil {
			return sdk.Volume{}, err
		}
		return a.toVolume(v)
	})
}

// ExtendVolume grows the volume to newSizeBytes with vd.Set; a smaller size returns the volume
// as it is. It is Unsupported unless Options.Extend is set.
func (a *Adapter) ExtendVolume(ctx context.Context, vol sdk.VolumeRef, newSizeBytes int64) (sdk.Volume, error) {
	if !a.opts.Extend {
		return sdk.Volume{}, sdk.ErrorUnsupported("ExtendVolume")
	}
	size, err := toSize("new_size_bytes", newSizeBytes)
	if err != nil {
		return sdk.Volume{}, err
	}
	return call(ctx, a, "ExtendVolume", []string{volumeKey(vol.ID)}, func(context.Context) (sdk.Volume, error) {
		v, err := a.get(volumeKind, vol.ID, vol.ProviderData)
		if err != nil {
			return sdk.Volume{}, err
		}
		return a.grow(v, size)
	})
}

// grow sets v's size to at least size bytes and returns it.
func (a *Adapter) grow(v *api.Volume, size uint64) (sdk.Volume, error) {
	if v.GetSpec().GetSize() >= size {
		return a.toVolume(v)
	}
	if err := a.vd.Set(v.GetId(), nil, &api.VolumeSpec{Size: size}); err != nil {
		return sdk.Volume{}, fromOSD("Set", err)
	}
	v, err := a.inspect("Set", v.GetId())
	if err != nil {
		return sdk.Volume{}, err
	}
	if have := v.GetSpec().GetSize(); have < size {
		return sdk.Volume{}, internal("Set", fmt.Sprintf("the volume has %d bytes after a resize to %d", have, size))
	}
	return a.toVolume(v)
}

// ListVolumes lists the volumes the adapter created (those with LabelVolumeID), ordered by ID;
// the page token is the last ID of the previous page.
func (a *Adapter) ListVolumes(ctx context.Context, req sdk.ListRequest) (sdk.ListPage, error) {
	return call(ctx, a, "ListVolumes", nil, func(context.Context) (sdk.ListPage, error) {
		all, err := a.list(req.Pool)
		if err != nil {
			return sdk.ListPage{}, err
		}
		i := slices.IndexFunc(all, func(v sdk.Volume) bool { return v.ID > req.PageToken })
		if i < 0 {
			i = len(all)
		}
		page := sdk.ListPage{Volumes: all[i:]}
		if req.Limit > 0 && len(page.Volumes) > req.Limit {
			page.Volumes = page.Volumes[:req.Limit]
			page.NextPageToken = page.Volumes[req.Limit-1].ID
		}
		return page, nil
	})
}

// list returns the adapter's volumes in pool (all pools when empty), sorted by ID.
func (a *Adapter) list(pool string) ([]sdk.Volume, error) {
	vols, err := a.vd.Enumerate(&api.VolumeLocator{}, nil)
	if err != nil {
		return nil, fromOSD("Enumerate", err)
	}
	var out []sdk.Volume
	for _, v := range vols {
		id := v.GetLocator().GetVolumeLabels()[LabelVolumeID]
		if id == "" || !volumeKind.match(v, id) {
			continue
		}
		vol, err := a.toVolume(v)
		if err != nil {
			return nil, err
		}
		if pool == "" || vol.Pool == pool {
			out = append(out, vol)
		}
	}
	slices.SortFunc(out, func(x, y sdk.Volume) int { return cmp.Compare(x.ID, y.ID) })
	return out, nil
}
