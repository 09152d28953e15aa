package main

import (
	"cmp"
	"context"
	"slices"

	"github.com/kilnstorage/kiln/sdk"
)

// GetVolume reports a volume from its LV's lvs line.
func (d *Driver) GetVolume(ctx context.Context, ref sdk.VolumeRef) (sdk.Volume, error) {
	p, err := d.poolOf(ref.Pool, ref.ProviderData)
	if err != nil {
		return sdk.Volume{}, err
	}
	if err := checkID("id", ref.ID); err != nil {
		return sdk.Volume{}, err
	}
	row, err := d.find(ctx, d.scope(p, "volume", ref.ID), lvRef{vg: p.VG, name: volumePrefix + ref.ID})
	if err != nil {
		return sdk.Volume{}, err
	}
	if t := row.tags(); t[tagKind] != kindVolume || t[tagID] != ref.ID {
		return sdk.Volume{}, sdk.ErrorNotFound("volume", ref.ID)
	}
	return volumeOf(row, p.Name), nil
}

// ListVolumes lists the LVs tagged as volumes in the configured pools, by ID, one lvs over their
// VGs per page. The page token is the last ID of the previous page. An LV the host has no row
// for is an orphan; one tagged as a volume outside every configured pool is logged, not listed.
func (d *Driver) ListVolumes(ctx context.Context, req sdk.ListRequest) (sdk.ListPage, error) {
	var vgs []string
	for _, p := range d.pools {
		if (req.Pool == "" || p.Name == req.Pool) && !slices.Contains(vgs, p.VG) {
			vgs = append(vgs, p.VG)
		}
	}
	if len(vgs) == 0 {
		return sdk.ListPage{}, sdk.ErrorInvalid("pool", "unknown pool "+req.Pool)
	}
	out, err := d.lvm.run(ctx, scope{}, lvsArgs(vgs...)...)
	if err != nil && !vgMissing(err) {
		return sdk.ListPage{}, err
	}
	rows, err := parseLVs(out)
	if err != nil {
		return sdk.ListPage{}, sdk.ErrorInternal(err)
	}
	var vols []sdk.Volume
	for _, r := range rows {
		t := r.tags()
		if t[tagKind] != kindVolume || t[tagID] == "" {
			continue
		}
		pool := d.poolFor(r)
		if pool == "" {
			d.log.Warn("a Kiln volume outside every configured pool", "lv", r.VG+"/"+r.Name, "volume_id", t[tagID])
			continue
		}
		if (req.Pool == "" || pool == req.Pool) && t[tagID] > req.PageToken {
			vols = append(vols, volumeOf(r, pool))
		}
	}
	return page(vols, req.Limit), nil
}

// page sorts vols by ID and cuts the first limit of them (all for 0).
func page(vols []sdk.Volume, limit int) sdk.ListPage {
	slices.SortFunc(vols, func(a, b sdk.Volume) int { return cmp.Compare(a.ID, b.ID) })
	if limit <= 0 || len(vols) <= limit {
		return sdk.ListPage{Volumes: vols}
	}
	return sdk.ListPage{Volumes: vols[:limit], NextPageToken: vols[limit-1].ID}
}
