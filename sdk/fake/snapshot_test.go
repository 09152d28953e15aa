package fake

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kilnstorage/kiln/sdk"
)

func TestCreateSnapshot(t *testing.T) {
	d := newDriver(t, Config{})
	ctx := context.Background()
	v := mustCreate(t, d, "v", "fast", gib)
	w := mustCreate(t, d, "w", "fast", gib)
	want := sdk.Snapshot{ID: "s", SourceVolumeID: "v", Pool: "fast", SizeBytes: gib, Ready: true,
		ProviderData: map[string]string{"fake_path": "fast/v@s"}}
	for range 2 {
		if diff := cmp.Diff(want, mustSnapshot(t, d, "s", v)); diff != "" {
			t.Errorf("snapshot (-want +got):\n%s", diff)
		}
	}
	_, err := d.CreateSnapshot(ctx, sdk.CreateSnapshotRequest{ID: "s", Volume: w.Ref()})
	wantCode(t, err, sdk.AlreadyExists, "SNAPSHOT_EXISTS_DIFFERENT")
	_, err = d.CreateSnapshot(ctx, sdk.CreateSnapshotRequest{ID: "t", Volume: sdk.VolumeRef{ID: "nope"}})
	wantCode(t, err, sdk.NotFound, "VOLUME_NOT_FOUND")
	for _, id := range []string{"s", "s", "never"} {
		if err := d.DeleteSnapshot(ctx, sdk.SnapshotRef{ID: id}); err != nil {
			t.Errorf("DeleteSnapshot(%s): %v", id, err)
		}
	}
	if err := d.DeleteVolume(ctx, v.Ref()); err != nil {
		t.Errorf("delete after its snapshot is gone: %v", err)
	}
}

func TestDeleteVolumeWithSnapshots(t *testing.T) {
	tests := []struct {
		name     string
		features *Features
		code     sdk.Code
	}{
		{"default features", nil, sdk.InUse},
		{"dependent snapshots", &Features{Snapshots: true, CreateFromSnapshot: true}, sdk.InUse},
		{"independent snapshots", &Features{Snapshots: true, CreateFromSnapshot: true, IndependentSnapshots: true}, sdk.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDriver(t, Config{Pools: []Pool{{Name: "p", Total: 10 * gib, Features: tt.features}}})
			ctx := context.Background()
			v := mustCreate(t, d, "v", "p", gib)
			s := mustSnapshot(t, d, "s", v)
			err := d.DeleteVolume(ctx, v.Ref())
			if tt.code != sdk.OK {
				wantCode(t, err, tt.code, "VOLUME_HAS_SNAPSHOTS")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// The snapshot survives its volume: a volume can be restored from it.
			req := sdk.CreateVolumeRequest{ID: "r", Pool: "p", SizeBytes: gib}
			if _, err := d.CreateVolumeFromSnapshot(ctx, req, s.Ref()); err != nil {
				t.Fatalf("restore from a surviving snapshot: %v", err)
			}
		})
	}
}

func TestCreateFromSource(t *testing.T) {
	tests := []struct {
		name   string
		pool   string
		size   int64
		snap   string // restore from this snapshot, else clone vol
		vol    string
		want   sdk.Volume
		code   sdk.Code
		reason string
	}{
		{name: "restore", pool: "p", size: 2 * gib, snap: "s",
			want: sdk.Volume{ID: "n", Pool: "p", SizeBytes: 2 * gib, SourceSnapshotID: "s"}},
		{name: "clone", pool: "p", size: 2 * gib, vol: "v",
			want: sdk.Volume{ID: "n", Pool: "p", SizeBytes: 2 * gib, SourceVolumeID: "v"}},
		{name: "restore across pools", pool: "q", size: 2 * gib, snap: "s",
			want: sdk.Volume{ID: "n", Pool: "q", SizeBytes: 2 * gib, SourceSnapshotID: "s"}},
		// The source's pool p declares clone_across_pools, so q and p2 are both fine; the
		// refusal, from a pool that does not, is TestCreateFromSourceAcrossPoolsRefused.
		{name: "clone across pools", pool: "p2", size: 2 * gib, vol: "v",
			want: sdk.Volume{ID: "n", Pool: "p2", SizeBytes: 2 * gib, SourceVolumeID: "v"}},
		{name: "missing snapshot", pool: "p", size: 2 * gib, snap: "nope", code: sdk.NotFound, reason: "SNAPSHOT_NOT_FOUND"},
		{name: "missing volume", pool: "p", size: 2 * gib, vol: "nope", code: sdk.NotFound, reason: "VOLUME_NOT_FOUND"},
		{name: "smaller than snapshot", pool: "p", size: gib, snap: "s", code: sdk.OutOfRange, reason: "SIZE_OUT_OF_RANGE"},
		{name: "smaller than volume", pool: "p", size: gib, vol: "v", code: sdk.OutOfRange, reason: "SIZE_OUT_OF_RANGE"},
		{name: "no space", pool: "p", size: 9 * gib, vol: "v", code: sdk.NoSpace, reason: "POOL_FULL"},
	}
	pools := []Pool{{Name: "p", Total: 10 * gib, Features: &Features{Snapshots: true, CreateFromSnapshot: true,
		Clone: true, CloneAcrossPools: true}}, {Name: "p2", Total: 10 * gib}, {Name: "q", Total: 10 * gib}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDriver(t, Config{Pools: pools})
			ctx := context.Background()
			v := mustCreate(t, d, "v", "p", 2*gib)
			mustSnapshot(t, d, "s", v)
			req := sdk.CreateVolumeRequest{ID: "n", Pool: tt.pool, SizeBytes: tt.size}
			var got sdk.Volume
			var err error
			if tt.snap != "" {
				got, err = d.CreateVolumeFromSnapshot(ctx, req, sdk.SnapshotRef{ID: tt.snap})
			} else {
				got, err = d.CloneVolume(ctx, req, sdk.VolumeRef{ID: tt.vol})
			}
			wantCode(t, err, tt.code, tt.reason)
			if err != nil {
				return
			}
			tt.want.ProviderData = map[string]string{"fake_path": tt.pool + "/n", "fake_object_id": "2"}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("volume (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCreateFromSourceAcrossPoolsRefused: a copy of a volume in a pool that does not declare
// clone_across_pools must stay in that pool.
func TestCreateFromSourceAcrossPoolsRefused(t *testing.T) {
	d := newDriver(t, Config{Pools: []Pool{{Name: "p", Total: 10 * gib}, {Name: "q", Total: 10 * gib}}})
	mustCreate(t, d, "v", "p", 2*gib)
	_, err := d.CloneVolume(context.Background(), sdk.CreateVolumeRequest{ID: "n", Pool: "q", SizeBytes: 2 * gib},
		sdk.VolumeRef{ID: "v"})
	wantCode(t, err, sdk.Unsupported, "UNSUPPORTED")
}

func TestCreateFromSourceIdempotent(t *testing.T) {
	d := newDriver(t, Config{})
	ctx := context.Background()
	v := mustCreate(t, d, "v", "fast", gib)
	s := mustSnapshot(t, d, "s", v)
	req := sdk.CreateVolumeRequest{ID: "n", Pool: "fast", SizeBytes: gib}
	first, err := d.CreateVolumeFromSnapshot(ctx, req, s.Ref())
	if err != nil {
		t.Fatal(err)
	}
	again, err := d.CreateVolumeFromSnapshot(ctx, req, s.Ref())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, again); diff != "" {
		t.Errorf("repeated restore (-first +again):\n%s", diff)
	}
	for name, err := range map[string]error{
		"as a clone":     second(d.CloneVolume(ctx, req, v.Ref())),
		"as a plain one": second(d.CreateVolume(ctx, req)),
	} {
		if sdk.CodeOf(err) != sdk.AlreadyExists {
			t.Errorf("repeat %s: %v, want AlreadyExists", name, err)
		}
	}
}

// second returns the error of a two-valued call.
func second[T any](_ T, err error) error { return err }
