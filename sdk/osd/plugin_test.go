package osd_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kilnstorage/kiln/sdk"
	"github.com/kilnstorage/kiln/sdk/osd"
	"github.com/libopenstorage/openstorage/api"
	"github.com/libopenstorage/openstorage/volume"
)

// panicsOnProbe panics on the probe's empty ID, as the in-tree nfs and buse drivers do.
type panicsOnProbe struct{ *memDriver }

func (p panicsOnProbe) Snapshot(id string, ro bool, loc *api.VolumeLocator) (string, error) {
	if id == "" {
		panic("runtime error: index out of range [0] with length 0")
	}
	return p.memDriver.Snapshot(id, ro, loc)
}

func TestSnapshotDetection(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		name string
		vd   volume.VolumeDriver
		opt  *bool
		want bool
	}{
		{"implemented", newMem(true), nil, true},
		{"SnapshotNotSupported", newMem(false), nil, false},
		{"panics on the probe", panicsOnProbe{newMem(true)}, nil, true},
		{"declared off", newMem(true), &no, false},
		{"declared on", newMem(false), &yes, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := osd.Driver(tt.vd, osd.Options{Snapshots: tt.opt})
			c, err := a.Capacity(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			want := sdk.FeatureSet{Snapshots: tt.want, CreateFromSnapshot: tt.want, Clone: tt.want}
			if diff := cmp.Diff(&want, c.Pools[0].Features); diff != "" {
				t.Errorf("features (-want +got):\n%s", diff)
			}
			v := mustCreate(t, a, create("vol-1", 1))
			_, err = a.CreateSnapshot(t.Context(), sdk.CreateSnapshotRequest{ID: "snap-1", Volume: v.Ref()})
			// The adapter refuses by itself (reason UNSUPPORTED) only when snapshots are off;
			// otherwise the driver answers, even if only with ErrNotSupported.
			var e *sdk.Error
			if refused := errors.As(err, &e) && e.Reason == "UNSUPPORTED"; refused == tt.want {
				t.Errorf("CreateSnapshot: %v; want the adapter to refuse: %v", err, !tt.want)
			}
		})
	}
}

func TestOffCapabilitiesAreUnsupported(t *testing.T) {
	a, _ := newAdapter(false, osd.Options{})
	v := mustCreate(t, a, create("vol-1", 1))
	calls := map[string]func() error{
		"CreateSnapshot": func() error {
			_, err := a.CreateSnapshot(t.Context(), sdk.CreateSnapshotRequest{ID: "s", Volume: v.Ref()})
			return err
		},
		"DeleteSnapshot": func() error { return a.DeleteSnapshot(t.Context(), sdk.SnapshotRef{ID: "s"}) },
		"CreateVolumeFromSnapshot": func() error {
			_, err := a.CreateVolumeFromSnapshot(t.Context(), create("vol-2", 1), sdk.SnapshotRef{ID: "s"})
			return err
		},
		"CloneVolume": func() error {
			_, err := a.CloneVolume(t.Context(), create("vol-2", 1), v.Ref())
			return err
		},
		"ExtendVolume": func() error {
			_, err := a.ExtendVolume(t.Context(), v.Ref(), 2)
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) { wantCode(t, call(), sdk.Unsupported) })
	}
}

type config struct {
	Pool string `kiln:"pool"`
}

func TestPlugin(t *testing.T) {
	tests := []struct {
		name string
		vd   volume.VolumeDriver
		err  error
		want sdk.Code
	}{
		{"builds", newMem(true), nil, sdk.OK},
		{"build fails", nil, volume.ErrDriverInitializing, sdk.Unavailable},
		{"no driver", nil, nil, sdk.Internal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := osd.Plugin("mem", "1.2.3", func(_ context.Context, cfg config, env sdk.Env) (volume.VolumeDriver, osd.Options, error) {
				return tt.vd, osd.Options{Pool: cfg.Pool + env.Backend}, tt.err
			})
			if p.Name != "mem" || p.Version != "1.2.3" {
				t.Errorf("plugin %q %q", p.Name, p.Version)
			}
			a, err := p.New(t.Context(), config{Pool: "p-"}, sdk.Env{Backend: "b"})
			wantCode(t, err, tt.want)
			if err != nil {
				return
			}
			c, err := a.Capacity(t.Context())
			if err != nil || c.Pools[0].Name != "p-b" {
				t.Errorf("capacity %+v, %v; want the pool p-b", c, err)
			}
		})
	}
	want := sdk.Capabilities{Snapshots: true, CreateFromSnapshot: true, Clone: true, Extend: true,
		Inspect: true, List: true, Close: true}
	if diff := cmp.Diff(want, sdk.CapabilitiesOf((*osd.Adapter)(nil))); diff != "" {
		t.Errorf("capabilities (-want +got):\n%s", diff)
	}
}
