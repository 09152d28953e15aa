package osd_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kilnstorage/kiln/sdk"
	"github.com/kilnstorage/kiln/sdk/osd"
	"github.com/libopenstorage/openstorage/api"
	"github.com/libopenstorage/openstorage/volume"
)

func newAdapter(snapshots bool, opts osd.Options) (*osd.Adapter, *memDriver) {
	vd := newMem(snapshots)
	return osd.Driver(vd, opts), vd
}

func create(id string, size int64) sdk.CreateVolumeRequest {
	return sdk.CreateVolumeRequest{ID: id, SizeBytes: size, Pool: "default"}
}

func wantCode(t *testing.T, err error, want sdk.Code) {
	t.Helper()
	if got := sdk.CodeOf(err); got != want {
		t.Fatalf("got code %v (%v), want %v", got, err, want)
	}
}

func mustCreate(t *testing.T, a *osd.Adapter, req sdk.CreateVolumeRequest) sdk.Volume {
	t.Helper()
	v, err := a.CreateVolume(t.Context(), req)
	if err != nil {
		t.Fatalf("CreateVolume(%s): %v", req.ID, err)
	}
	return v
}

func TestCreateVolumeIsIdempotent(t *testing.T) {
	a, vd := newAdapter(true, osd.Options{})
	thin := false
	req := sdk.CreateVolumeRequest{ID: "vol-1", SizeBytes: 1 << 20, Pool: "default", Thin: &thin,
		Params: map[string]string{"osd:cos": "high"}}
	first := mustCreate(t, a, req)
	want := sdk.Volume{ID: "vol-1", Pool: "default", SizeBytes: 1 << 20,
		ProviderData: map[string]string{osd.ProviderDataID: "osd-1"}}
	if diff := cmp.Diff(want, first); diff != "" {
		t.Errorf("first create (-want +got):\n%s", diff)
	}
	again := mustCreate(t, a, req)
	if diff := cmp.Diff(first, again); diff != "" {
		t.Errorf("second create (-first +second):\n%s", diff)
	}
	if n := vd.count("Create"); n != 1 {
		t.Errorf("vd.Create called %d times, want 1", n)
	}
}

func TestCreateVolumeConflicts(t *testing.T) {
	thin := true
	base := create("vol-1", 1<<20)
	tests := []struct {
		name string
		edit func(*sdk.CreateVolumeRequest)
		want sdk.Code
	}{
		{"same", func(*sdk.CreateVolumeRequest) {}, sdk.OK},
		{"other size", func(r *sdk.CreateVolumeRequest) { r.SizeBytes = 2 << 20 }, sdk.AlreadyExists},
		{"other pool", func(r *sdk.CreateVolumeRequest) { r.Pool = "fast" }, sdk.AlreadyExists},
		{"other provisioning", func(r *sdk.CreateVolumeRequest) { r.Thin = &thin }, sdk.AlreadyExists},
		{"other params", func(r *sdk.CreateVolumeRequest) { r.Params = map[string]string{"osd:io_profile": "db"} }, sdk.AlreadyExists},
		{"negative size", func(r *sdk.CreateVolumeRequest) { r.SizeBytes = -1 }, sdk.InvalidArgument},
		{"unknown param", func(r *sdk.CreateVolumeRequest) { r.Params = map[string]string{"stripes": "2"} }, sdk.InvalidArgument},
		{"bad param value", func(r *sdk.CreateVolumeRequest) { r.Params = map[string]string{"osd:cos": "gold"} }, sdk.InvalidArgument},
		{"no ID", func(r *sdk.CreateVolumeRequest) { r.ID = "" }, sdk.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := newAdapter(true, osd.Options{})
			mustCreate(t, a, base)
			req := base
			tt.edit(&req)
			_, err := a.CreateVolume(t.Context(), req)
			wantCode(t, err, tt.want)
		})
	}
}

// Enumerate may match names as regular expressions; the adapter keeps exact matches only.
func TestLookupKeepsExactNames(t *testing.T) {
	a, _ := newAdapter(true, osd.Options{})
	long := mustCreate(t, a, create("vol-10", 10))
	short := mustCreate(t, a, create("vol-1", 1))
	if long.ProviderData[osd.ProviderDataID] == short.ProviderData[osd.ProviderDataID] {
		t.Fatalf("vol-1 resolved to vol-10's openstorage volume %v", long.ProviderData)
	}
	got, err := a.GetVolume(t.Context(), sdk.VolumeRef{ID: "vol-1"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(short, got); diff != "" {
		t.Errorf("GetVolume(vol-1) (-want +got):\n%s", diff)
	}
}

func TestLookupFallsBackToName(t *testing.T) {
	a, vd := newAdapter(true, osd.Options{})
	want := mustCreate(t, a, create("vol-1", 1))
	tests := []struct {
		name          string
		pd            map[string]string
		wantEnumerate bool
	}{
		{"provider data", want.ProviderData, false},
		{"no provider data", nil, true},
		{"stale provider data", map[string]string{osd.ProviderDataID: "osd-99"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := vd.count("Enumerate")
			got, err := a.GetVolume(t.Context(), sdk.VolumeRef{ID: "vol-1", ProviderData: tt.pd})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("GetVolume (-want +got):\n%s", diff)
			}
			if enumerated := vd.count("Enumerate") > before; enumerated != tt.wantEnumerate {
				t.Errorf("enumerated = %v, want %v", enumerated, tt.wantEnumerate)
			}
		})
	}
	_, err := a.GetVolume(t.Context(), sdk.VolumeRef{ID: "vol-2"})
	wantCode(t, err, sdk.NotFound)
}

func TestDeleteVolumeIsIdempotent(t *testing.T) {
	a, vd := newAdapter(true, osd.Options{})
	v := mustCreate(t, a, create("vol-1", 1))
	for i, ref := range []sdk.VolumeRef{v.Ref(), v.Ref(), {ID: "vol-1"}, {ID: "never-was"}} {
		if err := a.DeleteVolume(t.Context(), ref); err != nil {
			t.Fatalf("delete %d: %v", i, err)
		}
	}
	if n := vd.count("Delete"); n != 1 {
		t.Errorf("vd.Delete called %d times, want 1", n)
	}
	again := mustCreate(t, a, create("vol-1", 1))
	if again.ProviderData[osd.ProviderDataID] == v.ProviderData[osd.ProviderDataID] {
		t.Errorf("re-created volume reuses the deleted openstorage ID %v", v.ProviderData)
	}
}

func TestListVolumes(t *testing.T) {
	a, vd := newAdapter(true, osd.Options{})
	for i, pool := range []string{"a", "b", "a", "a"} {
		req := create(fmt.Sprintf("vol-%d", i), 1)
		req.Pool = pool
		mustCreate(t, a, req)
	}
	// Neither a volume made outside Kiln nor a snapshot is listed.
	if _, err := vd.Create(&api.VolumeLocator{Name: "foreign"}, nil, &api.VolumeSpec{Size: 1}); err != nil {
		t.Fatal(err)
	}
	snapReq := sdk.CreateSnapshotRequest{ID: "snap-1", Volume: sdk.VolumeRef{ID: "vol-0"}}
	if _, err := a.CreateSnapshot(t.Context(), snapReq); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		req      sdk.ListRequest
		wantIDs  []string
		wantNext string
	}{
		{sdk.ListRequest{}, []string{"vol-0", "vol-1", "vol-2", "vol-3"}, ""},
		{sdk.ListRequest{Pool: "a"}, []string{"vol-0", "vol-2", "vol-3"}, ""},
		{sdk.ListRequest{Pool: "a", Limit: 2}, []string{"vol-0", "vol-2"}, "vol-2"},
		{sdk.ListRequest{Pool: "a", Limit: 2, PageToken: "vol-2"}, []string{"vol-3"}, ""},
		{sdk.ListRequest{Pool: "c"}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%+v", tt.req), func(t *testing.T) {
			page, err := a.ListVolumes(t.Context(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, v := range page.Volumes {
				ids = append(ids, v.ID)
			}
			if diff := cmp.Diff(tt.wantIDs, ids); diff != "" {
				t.Errorf("IDs (-want +got):\n%s", diff)
			}
			if page.NextPageToken != tt.wantNext {
				t.Errorf("next page token %q, want %q", page.NextPageToken, tt.wantNext)
			}
		})
	}
}

func TestCapacity(t *testing.T) {
	yes := true
	declared := sdk.Pool{Name: "ssd", TotalBytes: 100, FreeBytes: 60, Thin: true,
		Features: &sdk.FeatureSet{Snapshots: true, Clone: true, ExtendOnline: true, Extend: true, Protocols: []string{"iscsi"}}}
	report := func(context.Context) (sdk.Capacity, error) {
		return sdk.Capacity{Pools: []sdk.Pool{declared, {Name: "hdd", Thick: true}}}, nil
	}
	all := &sdk.FeatureSet{Snapshots: true, CreateFromSnapshot: true, Clone: true}
	tests := []struct {
		name      string
		snapshots bool
		opts      osd.Options
		want      []sdk.Pool
	}{
		{"default pool", true, osd.Options{},
			[]sdk.Pool{{Name: "default", CapacityUnknown: true, Thin: true, Thick: true, Features: all}}},
		{"named pool, extend, no snapshots", false, osd.Options{Pool: "p", Extend: true},
			[]sdk.Pool{{Name: "p", CapacityUnknown: true, Thin: true, Thick: true, Features: &sdk.FeatureSet{Extend: true}}}},
		{"callback narrowed", true, osd.Options{Capacity: report}, []sdk.Pool{
			{Name: "ssd", TotalBytes: 100, FreeBytes: 60, Thin: true, Features: &sdk.FeatureSet{Snapshots: true, Clone: true}},
			{Name: "hdd", Thick: true, Features: all},
		}},
		{"callback, snapshots forced on", false, osd.Options{Capacity: report, Snapshots: &yes, Extend: true}, []sdk.Pool{
			{Name: "ssd", TotalBytes: 100, FreeBytes: 60, Thin: true,
				Features: &sdk.FeatureSet{Snapshots: true, Clone: true, Extend: true, ExtendOnline: true}},
			{Name: "hdd", Thick: true, Features: &sdk.FeatureSet{Snapshots: true, CreateFromSnapshot: true, Clone: true, Extend: true}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := newAdapter(tt.snapshots, tt.opts)
			got, err := a.Capacity(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(sdk.Capacity{Pools: tt.want}, got); diff != "" {
				t.Errorf("Capacity (-want +got):\n%s", diff)
			}
		})
	}
	if declared.Features.Protocols == nil {
		t.Error("Capacity modified the callback's pool")
	}
}

func TestCapacityCallbackError(t *testing.T) {
	a, _ := newAdapter(true, osd.Options{Capacity: func(context.Context) (sdk.Capacity, error) {
		return sdk.Capacity{}, volume.ErrDriverInitializing
	}})
	_, err := a.Capacity(t.Context())
	wantCode(t, err, sdk.Unavailable)
	if !errors.Is(err, volume.ErrDriverInitializing) {
		t.Errorf("cause lost: %v", err)
	}
}

// Two openstorage volumes carrying one Kiln ID cannot be told apart: reads fail loudly and a
// delete removes both.
func TestDuplicateNames(t *testing.T) {
	a, vd := newAdapter(true, osd.Options{})
	for range 2 {
		if _, err := vd.Create(osd.ToLocator(create("vol-1", 1)), nil, &api.VolumeSpec{Size: 1}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := a.GetVolume(t.Context(), sdk.VolumeRef{ID: "vol-1"})
	wantCode(t, err, sdk.Internal)
	if err := a.DeleteVolume(t.Context(), sdk.VolumeRef{ID: "vol-1"}); err != nil {
		t.Fatal(err)
	}
	_, err = a.GetVolume(t.Context(), sdk.VolumeRef{ID: "vol-1"})
	wantCode(t, err, sdk.NotFound)
}
