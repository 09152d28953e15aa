package fake

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kilnstorage/kiln/sdk"
)

func TestCreateVolume(t *testing.T) {
	tests := []struct {
		name string
		req  sdk.CreateVolumeRequest
		want sdk.Volume
	}{
		{"thick pool default", sdk.CreateVolumeRequest{ID: "a", Pool: "fast", SizeBytes: gib},
			sdk.Volume{ID: "a", Pool: "fast", SizeBytes: gib}},
		{"thin pool default", sdk.CreateVolumeRequest{ID: "b", Pool: "slow", SizeBytes: gib},
			sdk.Volume{ID: "b", Pool: "slow", SizeBytes: gib, Thin: true}},
		{"thick asked", sdk.CreateVolumeRequest{ID: "c", Pool: "both", SizeBytes: gib, Thin: new(false)},
			sdk.Volume{ID: "c", Pool: "both", SizeBytes: gib}},
		{"both pool default", sdk.CreateVolumeRequest{ID: "d", Pool: "both", SizeBytes: gib},
			sdk.Volume{ID: "d", Pool: "both", SizeBytes: gib, Thin: true}},
	}
	pools := append(defaultPools(), Pool{Name: "both", Total: 10 * gib, Thin: true, Thick: true})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDriver(t, Config{Pools: pools})
			tt.want.ProviderData = map[string]string{"fake_path": tt.want.Pool + "/" + tt.want.ID,
				"fake_object_id": "1"}
			for range 2 { // the second create takes the idempotent path
				got, err := d.CreateVolume(context.Background(), tt.req)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("volume (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestCreateVolumeAlreadyExists(t *testing.T) {
	orig := sdk.CreateVolumeRequest{ID: "v", Pool: "both", SizeBytes: gib, Thin: new(true),
		Params: map[string]string{"k": "v"}}
	tests := []struct {
		name   string
		change func(*sdk.CreateVolumeRequest)
		reason string // empty: the create succeeds
	}{
		{"same", func(*sdk.CreateVolumeRequest) {}, ""},
		{"same with other name and labels", func(r *sdk.CreateVolumeRequest) {
			r.Name, r.Labels = "other", map[string]string{"l": "x"}
		}, ""},
		{"size", func(r *sdk.CreateVolumeRequest) { r.SizeBytes *= 2 }, "VOLUME_EXISTS_DIFFERENT"},
		{"pool", func(r *sdk.CreateVolumeRequest) { r.Pool = "slow" }, "VOLUME_EXISTS_DIFFERENT"},
		{"thin", func(r *sdk.CreateVolumeRequest) { r.Thin = new(false) }, "VOLUME_EXISTS_DIFFERENT"},
		{"params", func(r *sdk.CreateVolumeRequest) { r.Params = nil }, "VOLUME_EXISTS_DIFFERENT"},
	}
	pools := append(defaultPools(), Pool{Name: "both", Total: 10 * gib, Thin: true, Thick: true})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDriver(t, Config{Pools: pools})
			ctx := context.Background()
			first, err := d.CreateVolume(ctx, orig)
			if err != nil {
				t.Fatal(err)
			}
			req := orig
			tt.change(&req)
			got, err := d.CreateVolume(ctx, req)
			if tt.reason != "" {
				wantCode(t, err, sdk.AlreadyExists, tt.reason)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(first, got); diff != "" {
				t.Errorf("repeated create (-first +repeat):\n%s", diff)
			}
		})
	}
}

func TestCreateVolumeRejects(t *testing.T) {
	tests := []struct {
		name   string
		req    sdk.CreateVolumeRequest
		code   sdk.Code
		reason string
	}{
		{"no id", sdk.CreateVolumeRequest{Pool: "fast", SizeBytes: gib}, sdk.InvalidArgument, "INVALID_ID"},
		{"unknown pool", sdk.CreateVolumeRequest{ID: "v", Pool: "nope", SizeBytes: gib}, sdk.InvalidArgument, "INVALID_POOL"},
		{"thin on thick pool", sdk.CreateVolumeRequest{ID: "v", Pool: "fast", SizeBytes: gib, Thin: new(true)},
			sdk.InvalidArgument, "INVALID_THIN"},
		{"thick on thin pool", sdk.CreateVolumeRequest{ID: "v", Pool: "slow", SizeBytes: gib, Thin: new(false)},
			sdk.InvalidArgument, "INVALID_THIN"},
		{"no space", sdk.CreateVolumeRequest{ID: "v", Pool: "fast", SizeBytes: 101 * gib}, sdk.NoSpace, "POOL_FULL"},
	}
	d := newDriver(t, Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := d.CreateVolume(context.Background(), tt.req)
			wantCode(t, err, tt.code, tt.reason)
		})
	}
}

func TestCreateVolumeNoSpaceMeta(t *testing.T) {
	d := newDriver(t, Config{})
	mustCreate(t, d, "a", "fast", 60*gib)
	_, err := d.CreateVolume(context.Background(), sdk.CreateVolumeRequest{ID: "b", Pool: "fast", SizeBytes: 50 * gib})
	want := sdk.ErrorNoSpace("fast", 50*gib, 40*gib)
	if diff := cmp.Diff(error(want), err); diff != "" {
		t.Errorf("error (-want +got):\n%s", diff)
	}
	mustCreate(t, d, "thin", "slow", 10<<40) // thin volumes take no physical bytes
}

func TestDeleteVolume(t *testing.T) {
	d := newDriver(t, Config{})
	ctx := context.Background()
	v := mustCreate(t, d, "v", "fast", gib)
	for i := range 2 {
		if err := d.DeleteVolume(ctx, v.Ref()); err != nil {
			t.Fatalf("delete %d: %v", i, err)
		}
	}
	if err := d.DeleteVolume(ctx, sdk.VolumeRef{ID: "never"}); err != nil {
		t.Fatalf("delete of a missing volume: %v", err)
	}
	_, err := d.GetVolume(ctx, v.Ref())
	wantCode(t, err, sdk.NotFound, "VOLUME_NOT_FOUND")
	again := mustCreate(t, d, "v", "fast", 2*gib)
	if again.SizeBytes != 2*gib {
		t.Errorf("re-created volume has %d bytes, want %d", again.SizeBytes, 2*gib)
	}
}

func TestExtendVolume(t *testing.T) {
	tests := []struct {
		name   string
		pool   string
		size   int64
		want   int64
		code   sdk.Code
		reason string
	}{
		{"grow", "fast", 2 * gib, 2 * gib, sdk.OK, ""},
		{"same", "fast", gib, gib, sdk.OK, ""},
		{"never shrinks", "fast", mib, gib, sdk.OK, ""},
		{"thick beyond free", "fast", 101 * gib, 0, sdk.NoSpace, "POOL_FULL"},
		{"thin beyond total", "slow", 2 << 40, 2 << 40, sdk.OK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDriver(t, Config{})
			v := mustCreate(t, d, "v", tt.pool, gib)
			got, err := d.ExtendVolume(context.Background(), v.Ref(), tt.size)
			wantCode(t, err, tt.code, tt.reason)
			if got.SizeBytes != tt.want {
				t.Errorf("size after extend = %d, want %d", got.SizeBytes, tt.want)
			}
		})
	}
	_, err := newDriver(t, Config{}).ExtendVolume(context.Background(), sdk.VolumeRef{ID: "nope"}, gib)
	wantCode(t, err, sdk.NotFound, "VOLUME_NOT_FOUND")
}

func TestGetVolume(t *testing.T) {
	d := newDriver(t, Config{})
	v := mustCreate(t, d, "v", "fast", gib)
	got, err := d.GetVolume(context.Background(), sdk.VolumeRef{ID: "v"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(v, got); diff != "" {
		t.Errorf("GetVolume (-created +got):\n%s", diff)
	}
	_, err = d.GetVolume(context.Background(), sdk.VolumeRef{ID: "nope"})
	wantCode(t, err, sdk.NotFound, "VOLUME_NOT_FOUND")
}

func TestListVolumes(t *testing.T) {
	d := newDriver(t, Config{})
	for _, id := range []string{"c", "a", "e", "b", "d"} {
		mustCreate(t, d, id, "fast", mib)
	}
	mustCreate(t, d, "f", "slow", mib)
	tests := []struct {
		name string
		req  sdk.ListRequest
		ids  []string
		next string
	}{
		{"all", sdk.ListRequest{}, []string{"a", "b", "c", "d", "e", "f"}, ""},
		{"first page", sdk.ListRequest{Limit: 2}, []string{"a", "b"}, "b"},
		{"middle page", sdk.ListRequest{Limit: 2, PageToken: "b"}, []string{"c", "d"}, "d"},
		{"last page", sdk.ListRequest{Limit: 2, PageToken: "d"}, []string{"e", "f"}, ""},
		{"pool", sdk.ListRequest{Pool: "slow"}, []string{"f"}, ""},
		{"pool paged", sdk.ListRequest{Pool: "fast", Limit: 4, PageToken: "a"}, []string{"b", "c", "d", "e"}, ""},
		{"unknown pool", sdk.ListRequest{Pool: "nope"}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := d.ListVolumes(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, v := range page.Volumes {
				ids = append(ids, v.ID)
			}
			if diff := cmp.Diff(tt.ids, ids); diff != "" {
				t.Errorf("IDs (-want +got):\n%s", diff)
			}
			if page.NextPageToken != tt.next {
				t.Errorf("next page token = %q, want %q", page.NextPageToken, tt.next)
			}
		})
	}
}

func TestConnect(t *testing.T) {
	d := newDriver(t, Config{})
	ctx := context.Background()
	v := mustCreate(t, d, "v", "fast", gib)
	got, err := d.Connect(ctx, v.Ref(), sdk.Initiator{Host: "h"})
	if err != nil {
		t.Fatal(err)
	}
	want := sdk.Connection{Protocol: "local", Data: map[string]string{"path": "/dev/fake/v"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("connection (-want +got):\n%s", diff)
	}
	_, err = d.Connect(ctx, sdk.VolumeRef{ID: "nope"}, sdk.Initiator{Host: "h"})
	wantCode(t, err, sdk.NotFound, "VOLUME_NOT_FOUND")
	for _, id := range []string{"v", "nope"} {
		if err := d.Disconnect(ctx, sdk.VolumeRef{ID: id}, sdk.Initiator{Host: "h"}); err != nil {
			t.Errorf("Disconnect(%s): %v", id, err)
		}
	}
}
