package osd_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/kilnstorage/kiln/sdk"
	"github.com/kilnstorage/kiln/sdk/osd"
	"github.com/libopenstorage/openstorage/api"
	"github.com/libopenstorage/openstorage/volume"
)

func TestErrorMapping(t *testing.T) {
	cause := errors.New("disk on fire")
	tests := []struct {
		err        error
		wantCreate sdk.Code
		wantDelete sdk.Code
	}{
		{volume.ErrEnoEnt, sdk.NotFound, sdk.OK},
		{volume.ErrVolHasSnaps, sdk.InUse, sdk.InUse},
		{volume.ErrVolAttached, sdk.InUse, sdk.InUse},
		{volume.ErrVolAttachedOnRemoteNode, sdk.InUse, sdk.InUse},
		{volume.ErrVolAttachedScale, sdk.InUse, sdk.InUse},
		{volume.ErrVolBusy, sdk.Busy, sdk.Busy},
		{volume.ErrEinval, sdk.InvalidArgument, sdk.InvalidArgument},
		{volume.ErrNotSupported, sdk.Unsupported, sdk.Unsupported},
		{volume.ErrDriverInitializing, sdk.Unavailable, sdk.Unavailable},
		{volume.ErrAlreadyShutdown, sdk.Unavailable, sdk.Unavailable},
		{volume.ErrExist, sdk.AlreadyExists, sdk.AlreadyExists},
		{fmt.Errorf("wrapped: %w", volume.ErrVolBusy), sdk.Busy, sdk.Busy},
		{volume.ErrEnomem, sdk.Internal, sdk.Internal},
		{cause, sdk.Internal, sdk.Internal},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			a, vd := newAdapter(true, osd.Options{})
			v := mustCreate(t, a, create("vol-1", 1))
			vd.fail("Create", tt.err)
			vd.fail("Delete", tt.err)
			_, err := a.CreateVolume(t.Context(), create("vol-2", 1))
			wantCode(t, err, tt.wantCreate)
			if !errors.Is(err, tt.err) {
				t.Errorf("the cause is not wrapped: %v", err)
			}
			wantCode(t, a.DeleteVolume(t.Context(), v.Ref()), tt.wantDelete)
		})
	}
}

func TestLookupErrorsAreMapped(t *testing.T) {
	a, vd := newAdapter(true, osd.Options{})
	vd.fail("Enumerate", volume.ErrDriverInitializing)
	_, err := a.GetVolume(t.Context(), sdk.VolumeRef{ID: "vol-1"})
	wantCode(t, err, sdk.Unavailable)
	_, err = a.ListVolumes(t.Context(), sdk.ListRequest{})
	wantCode(t, err, sdk.Unavailable)
}

// Drivers that break openstorage's contract get Internal errors, not a crashed plugin.
func TestContractViolations(t *testing.T) {
	clone := func(a *osd.Adapter) error {
		_, err := a.CloneVolume(t.Context(), create("vol-2", 1), sdk.VolumeRef{ID: "vol-1"})
		return err
	}
	snapshot := func(a *osd.Adapter) error {
		_, err := a.CreateSnapshot(t.Context(), sdk.CreateSnapshotRequest{ID: "snap-1", Volume: sdk.VolumeRef{ID: "vol-1"}})
		return err
	}
	createVol := func(a *osd.Adapter) error {
		_, err := a.CreateVolume(t.Context(), create("vol-2", 1))
		return err
	}
	tests := []struct {
		name string
		vd   volume.VolumeDriver
		run  func(*osd.Adapter) error
	}{
		{"clone returns no ID", &silentSnapshot{newMem(true)}, clone},
		{"snapshot returns no ID", &silentSnapshot{newMem(true)}, snapshot},
		{"create panics", &panicky{newMem(true)}, createVol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := osd.Driver(tt.vd, osd.Options{})
			mustCreate(t, a, create("vol-1", 1))
			wantCode(t, tt.run(a), sdk.Internal)
		})
	}
}

// silentSnapshot swallows snapshot failures the way the in-tree nfs and buse drivers do.
type silentSnapshot struct{ *memDriver }

func (silentSnapshot) Snapshot(string, bool, *api.VolumeLocator) (string, error) { return "", nil }

// panicky panics creating vol-2.
type panicky struct{ *memDriver }

func (p panicky) Create(loc *api.VolumeLocator, src *api.Source, spec *api.VolumeSpec) (string, error) {
	if loc.GetName() == "vol-2" {
		panic("driver bug")
	}
	return p.memDriver.Create(loc, src, spec)
}
