package osd

import (
	"fmt"

	"github.com/kilnstorage/kiln/sdk"
	"github.com/libopenstorage/openstorage/api"
)

// kind is what a Kiln ID names: a volume or a snapshot. Both live in openstorage's one name
// space, told apart by the adapter's labels.
type kind struct {
	name  string // "volume" or "snapshot"
	other string // the label that marks the other kind
}

var (
	volumeKind   = kind{name: "volume", other: LabelSnapshotID}
	snapshotKind = kind{name: "snapshot", other: LabelVolumeID}
)

// match reports whether v is the object of this kind named id.
func (k kind) match(v *api.Volume, id string) bool {
	return v != nil && v.Locator != nil && v.Locator.Name == id && v.Locator.VolumeLabels[k.other] == ""
}

// findAll returns every openstorage object of kind k named id. It inspects the ID in
// ProviderData first and falls back to enumerating by name, keeping exact matches only,
// because Enumerate may treat the name as a regular expression.
func (a *Adapter) findAll(k kind, id string, pd map[string]string) ([]*api.Volume, error) {
	if osdID := pd[ProviderDataID]; osdID != "" {
		// Drivers answer a missing ID with ErrEnoEnt, another error or nothing at all; in every
		// case enumerating settles it.
		if vols, err := a.vd.Inspect([]string{osdID}); err == nil {
			for _, v := range vols {
				if v.GetId() == osdID && k.match(v, id) {
					return []*api.Volume{v}, nil
				}
			}
		}
	}
	vols, err := a.vd.Enumerate(&api.VolumeLocator{Name: id}, nil)
	if err != nil {
		return nil, fromOSD("Enumerate", err)
	}
	var out []*api.Volume
	for _, v := range vols {
		if k.match(v, id) {
			out = append(out, v)
		}
	}
	return out, nil
}

// find returns the object of kind k named id, or nil when there is none.
func (a *Adapter) find(k kind, id string, pd map[string]string) (*api.Volume, error) {
	vols, err := a.findAll(k, id, pd)
	switch {
	case err != nil:
		return nil, err
	case len(vols) > 1:
		return nil, &sdk.Error{Code: sdk.Internal, Reason: "OSD_DUPLICATE_NAME",
			Message: fmt.Sprintf("%d openstorage objects are named %s %s", len(vols), k.name, id)}
	case len(vols) == 0:
		return nil, nil
	}
	return vols[0], nil
}

// get is find for an object that must exist.
func (a *Adapter) get(k kind, id string, pd map[string]string) (*api.Volume, error) {
	v, err := a.find(k, id, pd)
	if err == nil && v == nil {
		err = sdk.ErrorNotFound(k.name, id)
	}
	return v, err
}

// inspect returns the openstorage object osdID, which the driver just returned.
func (a *Adapter) inspect(op, osdID string) (*api.Volume, error) {
	vols, err := a.vd.Inspect([]string{osdID})
	if err != nil {
		return nil, fromOSD("Inspect", err)
	}
	for _, v := range vols {
		if v.GetId() == osdID {
			return v, nil
		}
	}
	return nil, internal(op, fmt.Sprintf("the driver returned ID %q but cannot inspect it", osdID))
}

// toVolume describes an openstorage volume the adapter created.
func (a *Adapter) toVolume(v *api.Volume) (sdk.Volume, error) {
	size, err := fromSize("Inspect", v.GetSpec().GetSize())
	if err != nil {
		return sdk.Volume{}, err
	}
	used, err := fromSize("Inspect", v.GetUsage())
	if err != nil {
		return sdk.Volume{}, err
	}
	labels := v.GetLocator().GetVolumeLabels()
	return sdk.Volume{
		ID: v.GetLocator().GetName(), Pool: a.poolOf(labels), SizeBytes: size, AllocatedBytes: used,
		Thin:             labels[labelThin] != "false",
		SourceSnapshotID: labels[labelSourceSnapshot], SourceVolumeID: labels[labelSourceVolume],
		ProviderData: map[string]string{ProviderDataID: v.GetId()},
	}, nil
}

// toSnapshot describes an openstorage snapshot the adapter created.
func (a *Adapter) toSnapshot(v *api.Volume) (sdk.Snapshot, error) {
	size, err := fromSize("Inspect", v.GetSpec().GetSize())
	if err != nil {
		return sdk.Snapshot{}, err
	}
	labels := v.GetLocator().GetVolumeLabels()
	return sdk.Snapshot{
		ID: v.GetLocator().GetName(), SourceVolumeID: labels[labelSourceVolume],
		Pool: a.poolOf(labels), SizeBytes: size, Ready: true,
		ProviderData: map[string]string{ProviderDataID: v.GetId()},
	}, nil
}

// poolOf returns the pool recorded in labels, or the single pool when there is no callback.
func (a *Adapter) poolOf(labels map[string]string) string {
	if p := labels[labelPool]; p != "" || a.opts.Capacity != nil {
		return p
	}
	return a.opts.Pool
}
