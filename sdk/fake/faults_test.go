package fake

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kilnstorage/kiln/sdk"
)

func TestFailureModes(t *testing.T) {
	tests := []struct {
		name    string
		failure Failure
		want    []sdk.Code // the outcome of calls 1, 2, …
	}{
		{"once", Failure{Op: OpProbe, Code: "Unavailable", Mode: "once"},
			[]sdk.Code{sdk.Unavailable, sdk.OK, sdk.OK, sdk.OK}},
		{"always", Failure{Op: OpProbe, Code: "NoSpace", Mode: "always"},
			[]sdk.Code{sdk.NoSpace, sdk.NoSpace, sdk.NoSpace}},
		{"zero mode and code", Failure{Op: OpProbe},
			[]sdk.Code{sdk.Internal, sdk.Internal}},
		{"every 3", Failure{Op: OpProbe, Code: "Busy", Mode: "every", Every: 3},
			[]sdk.Code{sdk.OK, sdk.OK, sdk.Busy, sdk.OK, sdk.OK, sdk.Busy}},
		{"other op", Failure{Op: OpCapacity, Mode: "always"},
			[]sdk.Code{sdk.OK, sdk.OK}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDriver(t, Config{Failures: []Failure{tt.failure}})
			var got []sdk.Code
			for range tt.want {
				got = append(got, sdk.CodeOf(d.Probe(context.Background())))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("outcomes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestInjectedError(t *testing.T) {
	tests := []struct {
		name    string
		failure Failure
		want    *sdk.Error
	}{
		{"generated", Failure{Op: OpCreateVolume, Code: "NoSpace"},
			&sdk.Error{Code: sdk.NoSpace, Reason: "INJECTED_FAILURE", Message: "injected failure of create_volume (call 1)"}},
		{"configured", Failure{Op: OpCreateVolume, Code: "Unavailable", Reason: "ARRAY_OFFLINE", Message: "array offline"},
			&sdk.Error{Code: sdk.Unavailable, Reason: "ARRAY_OFFLINE", Message: "array offline"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDriver(t, Config{Failures: []Failure{tt.failure}})
			_, err := d.CreateVolume(context.Background(), sdk.CreateVolumeRequest{ID: "v", Pool: "fast", SizeBytes: gib})
			if diff := cmp.Diff(error(tt.want), err); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if vols := listAll(t, d); len(vols) != 0 {
				t.Errorf("a failed create left volumes: %+v", vols)
			}
		})
	}
}

func TestFailuresEveryOperation(t *testing.T) {
	var failures []Failure
	for _, op := range Ops {
		failures = append(failures, Failure{Op: op, Code: "Unavailable", Mode: "always"})
	}
	d := newDriver(t, Config{Failures: failures})
	ctx := context.Background()
	req := sdk.CreateVolumeRequest{ID: "v", Pool: "fast", SizeBytes: gib}
	calls := map[string]error{
		OpCapacity:                 second(d.Capacity(ctx)),
		OpProbe:                    d.Probe(ctx),
		OpCreateVolume:             second(d.CreateVolume(ctx, req)),
		OpCreateVolumeFromSnapshot: second(d.CreateVolumeFromSnapshot(ctx, req, sdk.SnapshotRef{ID: "s"})),
		OpCloneVolume:              second(d.CloneVolume(ctx, req, sdk.VolumeRef{ID: "w"})),
		OpDeleteVolume:             d.DeleteVolume(ctx, sdk.VolumeRef{ID: "v"}),
		OpGetVolume:                second(d.GetVolume(ctx, sdk.VolumeRef{ID: "v"})),
		OpListVolumes:              second(d.ListVolumes(ctx, sdk.ListRequest{})),
		OpExtendVolume:             second(d.ExtendVolume(ctx, sdk.VolumeRef{ID: "v"}, gib)),
		OpCreateSnapshot:           second(d.CreateSnapshot(ctx, sdk.CreateSnapshotRequest{ID: "s"})),
		OpDeleteSnapshot:           d.DeleteSnapshot(ctx, sdk.SnapshotRef{ID: "s"}),
		OpConnect:                  second(d.Connect(ctx, sdk.VolumeRef{ID: "v"}, sdk.Initiator{})),
		OpDisconnect:               d.Disconnect(ctx, sdk.VolumeRef{ID: "v"}, sdk.Initiator{}),
	}
	for _, op := range Ops {
		if err, ok := calls[op]; !ok || sdk.CodeOf(err) != sdk.Unavailable {
			t.Errorf("%s: %v, want the injected Unavailable error", op, err)
		}
	}
}

func TestLatency(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		latency string
		bugs    []string
		ctx     context.Context
		want    error
	}{
		{"elapses", "1ms", nil, context.Background(), nil},
		{"honours ctx", "1h", nil, cancelled, context.Canceled},
		{"ignores_ctx sleeps it out", "1ms", []string{BugIgnoresCtx}, cancelled, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDriver(t, Config{Latency: map[string]string{OpCreateVolume: tt.latency}, Bugs: tt.bugs})
			_, err := d.CreateVolume(tt.ctx, sdk.CreateVolumeRequest{ID: "v", Pool: "fast", SizeBytes: gib})
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("CreateVolume = %v, want %v", err, tt.want)
			}
			if created := len(listAll(t, d)) == 1; created != (tt.want == nil) {
				t.Errorf("volume created: %v, want %v", created, tt.want == nil)
			}
		})
	}
}

func TestBugs(t *testing.T) {
	ctx := context.Background()
	req := sdk.CreateVolumeRequest{ID: "v", Pool: "fast", SizeBytes: gib}
	tests := []struct {
		bug   string
		check func(t *testing.T, d *Driver, cfg Config)
	}{
		{BugNonIdempotentCreate, func(t *testing.T, d *Driver, _ Config) {
			first, again := mustCreate(t, d, "v", "fast", gib), mustCreate(t, d, "v", "fast", gib)
			if cmp.Equal(first.ProviderData, again.ProviderData) {
				t.Errorf("repeated create kept ProviderData %v", first.ProviderData)
			}
			if n, free := len(listAll(t, d)), pool(t, d, "fast").FreeBytes; n != 2 || free != 98*gib {
				t.Errorf("%d objects, %d free bytes; want 2 and %d", n, free, 98*gib)
			}
		}},
		{BugLeakCapacityOnDelete, func(t *testing.T, d *Driver, cfg Config) {
			v := mustCreate(t, d, "v", "fast", gib)
			if err := d.DeleteVolume(ctx, v.Ref()); err != nil {
				t.Fatal(err)
			}
			if free := pool(t, newDriver(t, cfg), "fast").FreeBytes; free != 99*gib {
				t.Errorf("free bytes after delete and restart = %d, want %d (leaked)", free, 99*gib)
			}
		}},
		{BugWrongCodeOnMissingSource, func(t *testing.T, d *Driver, _ Config) {
			wantCode(t, second(d.CreateVolumeFromSnapshot(ctx, req, sdk.SnapshotRef{ID: "s"})), sdk.Internal, "INTERNAL")
			wantCode(t, second(d.CloneVolume(ctx, req, sdk.VolumeRef{ID: "w"})), sdk.Internal, "INTERNAL")
			wantCode(t, second(d.CreateSnapshot(ctx, sdk.CreateSnapshotRequest{ID: "s", Volume: sdk.VolumeRef{ID: "w"}})),
				sdk.Internal, "INTERNAL")
		}},
		{BugForgetsVolumesOnRestart, func(t *testing.T, d *Driver, cfg Config) {
			mustCreate(t, d, "v", "fast", gib)
			_, err := newDriver(t, cfg).GetVolume(ctx, sdk.VolumeRef{ID: "v"})
			wantCode(t, err, sdk.NotFound, "VOLUME_NOT_FOUND")
		}},
		{BugDeleteMissingErrors, func(t *testing.T, d *Driver, _ Config) {
			wantCode(t, d.DeleteVolume(ctx, sdk.VolumeRef{ID: "nope"}), sdk.NotFound, "VOLUME_NOT_FOUND")
		}},
		{BugPrintsToStdout, func(t *testing.T, d *Driver, _ Config) {
			out := captureStdout(t, func() { mustCreate(t, d, "v", "fast", gib) })
			if out != "fake: creating volume v\n" {
				t.Errorf("stdout = %q, want a line about creating v", out)
			}
		}},
		{BugIgnoresCtx, func(t *testing.T, d *Driver, _ Config) {
			// Without latency there is nothing to ignore; TestLatency covers the bug.
			mustCreate(t, d, "v", "fast", gib)
		}},
	}
	if len(tests) != len(Bugs) {
		t.Errorf("%d bugs tested, %d exist", len(tests), len(Bugs))
	}
	for _, tt := range tests {
		t.Run(tt.bug, func(t *testing.T) {
			cfg := Config{StateDir: t.TempDir(), Bugs: []string{tt.bug}}
			tt.check(t, newDriver(t, cfg), cfg)
		})
	}
}

func TestNoBugsNoStdout(t *testing.T) {
	d := newDriver(t, Config{})
	if out := captureStdout(t, func() { mustCreate(t, d, "v", "fast", gib) }); out != "" {
		t.Errorf("stdout = %q, want nothing", out)
	}
}

// captureStdout returns what fn writes to os.Stdout. Tests using it must not run in parallel.
func captureStdout(t *testing.T, fn func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	orig := os.Stdout
	os.Stdout = w
	defer func() { os.Stdout = orig }()
	fn()
	w.Close()
	var b strings.Builder
	if _, err := io.Copy(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
