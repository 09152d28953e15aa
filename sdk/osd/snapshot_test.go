package osd_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kilnstorage/kiln/sdk"
	"github.com/kilnstorage/kiln/sdk/osd"
	"github.com/libopenstorage/openstorage/api"
	"github.com/libopenstorage/openstorage/volume"
)

func osdID(pd map[string]string) string { return pd[osd.ProviderDataID] }

func mustSnapshot(t *testing.T, a *osd.Adapter, id string, vol sdk.Volume) sdk.Snapshot {
	t.Helper()
	s, err := a.CreateSnapshot(t.Context(), sdk.CreateSnapshotRequest{ID: id, Volume: vol.Ref()})
	if err != nil {
		t.Fatalf("CreateSnapshot(%s): %v", id, err)
	}
	return s
}

func TestSnapshotRestoreClone(t *testing.T) {
	a, vd := newAdapter(true, osd.Options{})
	src := mustCreate(t, a, create("vol-1", 100))
	other := mustCreate(t, a, create("vol-2", 100))
	vd.write(osdID(src.ProviderData), "at snapshot")

	snap := mustSnapshot(t, a, "snap-1", src)
	want := sdk.Snapshot{ID: "snap-1", SourceVolumeID: "vol-1", Pool: "default", SizeBytes: 100, Ready: true,
		ProviderData: snap.ProviderData}
	if diff := cmp.Diff(want, snap); diff != "" {
		t.Errorf("snapshot (-want +got):\n%s", diff)
	}
	if again := mustSnapshot(t, a, "snap-1", src); !cmp.Equal(snap, again) {
		t.Errorf("repeated snapshot differs: %+v vs %+v", snap, again)
	}
	_, err := a.CreateSnapshot(t.Context(), sdk.CreateSnapshotRequest{ID: "snap-1", Volume: other.Ref()})
	wantCode(t, err, sdk.AlreadyExists)
	vd.write(osdID(src.ProviderData), "after snapshot")

	restored, err := a.CreateVolumeFromSnapshot(t.Context(), create("vol-3", 100), snap.Ref())
	if err != nil {
		t.Fatal(err)
	}
	clone, err := a.CloneVolume(t.Context(), create("vol-4", 100), src.Ref())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		vol                  sdk.Volume
		data, srcSnap, srcID string
	}{{restored, "at snapshot", "snap-1", ""}, {clone, "after snapshot", "", "vol-1"}} {
		if got := vd.read(osdID(c.vol.ProviderData)); got != c.data {
			t.Errorf("%s holds %q, want %q", c.vol.ID, got, c.data)
		}
		if c.vol.SourceSnapshotID != c.srcSnap || c.vol.SourceVolumeID != c.srcID {
			t.Errorf("%s: sources %q/%q, want %q/%q", c.vol.ID, c.vol.SourceSnapshotID, c.vol.SourceVolumeID, c.srcSnap, c.srcID)
		}
	}
	if n := vd.count("Create"); n != 2 {
		t.Errorf("vd.Create called %d times, want 2: copies are writable snapshots", n)
	}
}

func TestCopiesAreIdempotent(t *testing.T) {
	a, vd := newAdapter(true, osd.Options{})
	src := mustCreate(t, a, create("vol-1", 100))
	other := mustCreate(t, a, create("vol-2", 100))
	snap := mustSnapshot(t, a, "snap-1", src)
	first, err := a.CloneVolume(t.Context(), create("clone", 50), src.Ref())
	if err != nil {
		t.Fatal(err)
	}
	calls := vd.count("Snapshot")
	tests := []struct {
		name string
		run  func() (sdk.Volume, error)
		want sdk.Code
	}{
		{"same clone", func() (sdk.Volume, error) { return a.CloneVolume(t.Context(), create("clone", 50), src.Ref()) }, sdk.OK},
		{"other source", func() (sdk.Volume, error) { return a.CloneVolume(t.Context(), create("clone", 50), other.Ref()) }, sdk.AlreadyExists},
		{"from a snapshot", func() (sdk.Volume, error) {
			return a.CreateVolumeFromSnapshot(t.Context(), create("clone", 50), snap.Ref())
		}, sdk.AlreadyExists},
		{"plain", func() (sdk.Volume, error) { return a.CreateVolume(t.Context(), create("clone", 100)) }, sdk.AlreadyExists},
		{"larger", func() (sdk.Volume, error) { return a.CloneVolume(t.Context(), create("clone", 200), src.Ref()) }, sdk.AlreadyExists},
		{"missing source", func() (sdk.Volume, error) {
			return a.CloneVolume(t.Context(), create("clone", 50), sdk.VolumeRef{ID: "gone"})
		}, sdk.NotFound},
		{"missing snapshot", func() (sdk.Volume, error) {
			return a.CreateVolumeFromSnapshot(t.Context(), create("vol-9", 50), sdk.SnapshotRef{ID: "gone"})
		}, sdk.NotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.run()
			wantCode(t, err, tt.want)
			if err == nil && !cmp.Equal(first, got) {
				t.Errorf("repeated clone differs: %+v vs %+v", first, got)
			}
		})
	}
	if first.SizeBytes != 100 {
		t.Errorf("clone has %d bytes, want its source's 100", first.SizeBytes)
	}
	if n := vd.count("Snapshot"); n != calls {
		t.Errorf("retries called vd.Snapshot %d more times", n-calls)
	}
}

func TestCopyLargerThanSource(t *testing.T) {
	for _, extend := range []bool{false, true} {
		a, _ := newAdapter(true, osd.Options{Extend: extend})
		src := mustCreate(t, a, create("vol-1", 100))
		v, err := a.CloneVolume(t.Context(), create("vol-2", 300), src.Ref())
		if !extend {
			wantCode(t, err, sdk.OutOfRange)
			continue
		}
		if err != nil || v.SizeBytes != 300 {
			t.Errorf("with extend: got %d bytes, %v; want 300", v.SizeBytes, err)
		}
	}
}

func TestDeleteSnapshot(t *testing.T) {
	a, _ := newAdapter(true, osd.Options{})
	src := mustCreate(t, a, create("vol-1", 100))
	snap := mustSnapshot(t, a, "snap-1", src)
	err := a.DeleteVolume(t.Context(), src.Ref())
	wantCode(t, err, sdk.InUse)
	if err := a.DeleteSnapshot(t.Context(), sdk.SnapshotRef{ID: "vol-1"}); err != nil {
		t.Fatalf("DeleteSnapshot of a volume's ID: %v", err)
	}
	if _, err := a.GetVolume(t.Context(), src.Ref()); err != nil {
		t.Fatalf("DeleteSnapshot(vol-1) touched the volume: %v", err)
	}
	for _, ref := range []sdk.SnapshotRef{snap.Ref(), snap.Ref(), {ID: "snap-1"}} {
		if err := a.DeleteSnapshot(t.Context(), ref); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.DeleteVolume(t.Context(), src.Ref()); err != nil {
		t.Fatal(err)
	}
}

func TestExtendVolume(t *testing.T) {
	a, vd := newAdapter(true, osd.Options{Extend: true})
	v := mustCreate(t, a, create("vol-1", 100))
	tests := []struct {
		name     string
		ref      sdk.VolumeRef
		size     int64
		fail     error
		want     sdk.Code
		wantSize int64
	}{
		{"grow", v.Ref(), 200, nil, sdk.OK, 200},
		{"same size", v.Ref(), 200, nil, sdk.OK, 200},
		{"smaller", sdk.VolumeRef{ID: "vol-1"}, 50, nil, sdk.OK, 200},
		{"negative", v.Ref(), -1, nil, sdk.InvalidArgument, 0},
		{"missing", sdk.VolumeRef{ID: "gone"}, 300, nil, sdk.NotFound, 0},
		{"driver refuses", v.Ref(), 300, volume.ErrNotSupported, sdk.Unsupported, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vd.fail("Set", tt.fail)
			got, err := a.ExtendVolume(t.Context(), tt.ref, tt.size)
			wantCode(t, err, tt.want)
			if got.SizeBytes != tt.wantSize {
				t.Errorf("size %d, want %d", got.SizeBytes, tt.wantSize)
			}
		})
	}
}

// A driver that accepts Set but keeps the size breaks the contract; the adapter says so.
func TestExtendIgnoredBySet(t *testing.T) {
	vd := &ignoresSet{newMem(false)}
	a := osd.Driver(vd, osd.Options{Extend: true})
	v := mustCreate(t, a, create("vol-1", 100))
	_, err := a.ExtendVolume(t.Context(), v.Ref(), 200)
	wantCode(t, err, sdk.Internal)
}

type ignoresSet struct{ *memDriver }

func (ignoresSet) Set(string, *api.VolumeLocator, *api.VolumeSpec) error { return nil }
