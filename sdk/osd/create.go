package osd

import (
	"context"
	"fmt"

	"github.com/kilnstorage/kiln/sdk"
	"github.com/libopenstorage/openstorage/api"
)

// source is what a new volume copies: nothing (zero kind), a snapshot or a volume.
type source struct {
	kind  kind
	id    string
	pd    map[string]string
	label string // the label recording id on the copy
}

// CreateVolume creates an empty volume named req.ID, or returns the one that exists with the
// same arguments. req.Params may set osd:cos and osd:io_profile.
func (a *Adapter) CreateVolume(ctx context.Context, req sdk.CreateVolumeRequest) (sdk.Volume, error) {
	return call(ctx, a, "CreateVolume", []string{volumeKey(req.ID)}, func(ctx context.Context) (sdk.Volume, error) {
		return a.create(ctx, req, source{})
	})
}

// CreateVolumeFromSnapshot creates a writable copy of src, as a writable openstorage snapshot of
// it. It is Unsupported when the driver takes no snapshots.
func (a *Adapter) CreateVolumeFromSnapshot(ctx context.Context, req sdk.CreateVolumeRequest, src sdk.SnapshotRef) (sdk.Volume, error) {
	if !a.snapshots {
		return sdk.Volume{}, sdk.ErrorUnsupported("CreateVolumeFromSnapshot")
	}
	s := source{kind: snapshotKind, id: src.ID, pd: src.ProviderData, label: labelSourceSnapshot}
	keys := []string{volumeKey(req.ID), snapshotKey(src.ID)}
	return call(ctx, a, "CreateVolumeFromSnapshot", keys, func(ctx context.Context) (sdk.Volume, error) {
		return a.create(ctx, req, s)
	})
}

// CloneVolume creates a copy of src, as a writable openstorage snapshot of it. It is
// Unsupported when the driver takes no snapshots.
func (a *Adapter) CloneVolume(ctx context.Context, req sdk.CreateVolumeRequest, src sdk.VolumeRef) (sdk.Volume, error) {
	if !a.snapshots {
		return sdk.Volume{}, sdk.ErrorUnsupported("CloneVolume")
	}
	s := source{kind: volumeKind, id: src.ID, pd: src.ProviderData, label: labelSourceVolume}
	keys := []string{volumeKey(req.ID), volumeKey(src.ID)}
	return call(ctx, a, "CloneVolume", keys, func(ctx context.Context) (sdk.Volume, error) {
		return a.create(ctx, req, s)
	})
}

// create finds the volume req names and reconciles it with req, or makes it.
func (a *Adapter) create(ctx context.Context, req sdk.CreateVolumeRequest, src source) (sdk.Volume, error) {
	spec, err := specOf(req)
	if err != nil {
		return sdk.Volume{}, err
	}
	var parent *api.Volume
	if src.kind.name != "" {
		if parent, err = a.get(src.kind, src.id, src.pd); err != nil {
			return sdk.Volume{}, err
		}
	}
	existing, err := a.find(volumeKind, req.ID, nil)
	switch {
	case err != nil:
		return sdk.Volume{}, err
	case existing != nil:
		return a.reconcile(req, spec, parent, existing)
	case ctx.Err() != nil:
		return sdk.Volume{}, ctx.Err()
	case parent == nil:
		return a.createEmpty(req, spec)
	}
	return a.copyFrom(req, spec.Size, parent, src)
}

// specOf validates req and returns the spec of the volume it asks for.
func specOf(req sdk.CreateVolumeRequest) (*api.VolumeSpec, error) {
	if req.ID == "" {
		return nil, sdk.ErrorInvalid("id", "required")
	}
	size, err := toSize("size_bytes", req.SizeBytes)
	if err != nil {
		return nil, err
	}
	return toSpec(size, req.Params)
}

// reconcile answers a create whose volume v exists: equivalent arguments give the volume (a
// copy still short of its size is grown now), others an AlreadyExists error. A copy starts
// at its source's size, so only a plain volume must match the size exactly.
func (a *Adapter) reconcile(req sdk.CreateVolumeRequest, spec *api.VolumeSpec, parent, v *api.Volume) (sdk.Volume, error) {
	have, want := v.GetLocator().GetVolumeLabels(), ToLocator(req).VolumeLabels
	var why string
	switch {
	case v.GetSource().GetParent() != parent.GetId():
		why = "source"
	case have[labelPool] != want[labelPool]:
		why = "pool"
	case have[labelThin] != want[labelThin]:
		why = "provisioning"
	case parent == nil && v.GetSpec().GetSize() != spec.Size:
		why = "size"
	case parent == nil && (v.GetSpec().GetCos() != spec.Cos || v.GetSpec().GetIoProfile() != spec.IoProfile):
		why = "parameters"
	case v.GetSpec().GetSize() < spec.Size && !a.opts.Extend:
		why = "size"
	}
	if why != "" {
		return sdk.Volume{}, sdk.ErrorAlreadyExists("volume", req.ID, why)
	}
	return a.grow(v, spec.Size)
}

// createEmpty creates a plain volume.
func (a *Adapter) createEmpty(req sdk.CreateVolumeRequest, spec *api.VolumeSpec) (sdk.Volume, error) {
	osdID, err := a.vd.Create(ToLocator(req), &api.Source{}, spec)
	if err != nil {
		return sdk.Volume{}, fromOSD("Create", err)
	}
	v, err := a.inspect("Create", osdID)
	if err != nil {
		return sdk.Volume{}, err
	}
	return a.toVolume(v)
}

// copyFrom creates the volume req names as a writable snapshot of parent, then grows it to
// size if it must. openstorage's own servers copy volumes this way: the in-tree drivers' Create
// records Source.Parent without copying any data.
func (a *Adapter) copyFrom(req sdk.CreateVolumeRequest, size uint64, parent *api.Volume, src source) (sdk.Volume, error) {
	if have := parent.GetSpec().GetSize(); size > have && !a.opts.Extend {
		return sdk.Volume{}, sdk.ErrorOutOfRange(req.Pool, req.SizeBytes,
			fmt.Sprintf("exceeds the %d bytes of %s %s, and this driver cannot extend volumes", have, src.kind.name, src.id))
	}
	loc := ToLocator(req)
	loc.VolumeLabels[src.label] = src.id
	osdID, err := a.vd.Snapshot(parent.GetId(), false, loc)
	switch {
	case err != nil:
		return sdk.Volume{}, fromOSD("Snapshot", err)
	case osdID == "":
		// The in-tree nfs and buse drivers answer a failed snapshot with ("", nil).
		return sdk.Volume{}, internal("Snapshot", "the driver returned neither an ID nor an error")
	}
	v, err := a.inspect("Snapshot", osdID)
	if err != nil {
		return sdk.Volume{}, err
	}
	return a.grow(v, size)
}
