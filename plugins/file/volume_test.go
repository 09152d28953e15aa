package main

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kilnstorage/kiln/sdk"
	"golang.org/x/sys/unix"
)

// TestAllocation checks what the files take on disk: a thin volume nothing, a thick one its
// whole size, before and after an extend.
func TestAllocation(t *testing.T) {
	d := testDriver(t, testConfig(t), fsops{})
	thin := mustCreate(t, d, "thin", "a", 64*mib, true)
	thick := mustCreate(t, d, "thick", "a", 64*mib, false)
	for _, tt := range []struct {
		v        sdk.Volume
		size     int64
		min, max int64
	}{
		{thin, 64 * mib, 0, mib}, {thick, 64 * mib, 64 * mib, 65 * mib},
		{thin, 128 * mib, 0, mib}, {thick, 128 * mib, 128 * mib, 129 * mib},
	} {
		v, err := d.ExtendVolume(t.Context(), tt.v.Ref(), tt.size)
		if err != nil || v.SizeBytes != tt.size {
			t.Fatalf("ExtendVolume %s to %d: %+v, %v", tt.v.ID, tt.size, v, err)
		}
		if got := allocated(t, v.ProviderData["path"]); got < tt.min || got > tt.max {
			t.Errorf("%s at %d bytes allocates %d bytes, want %d to %d", v.ID, tt.size, got, tt.min, tt.max)
		}
	}
	p := poolReport(t, d, "a")
	if p.ProvisionedBytes != 256*mib || p.Attributes["total_volumes"].Int != 2 {
		t.Errorf("provisioned %d bytes in %d volumes, want 256 MiB in 2", p.ProvisionedBytes, p.Attributes["total_volumes"].Int)
	}
	if a := p.Attributes["allocated_bytes"].Int; a < 128*mib || a > 130*mib {
		t.Errorf("allocated_bytes = %d, want about 128 MiB", a)
	}
}

// TestRestart builds a second driver over the same pools, as a restarted process would, and
// checks that it answers every question as the first did.
func TestRestart(t *testing.T) {
	cfg := testConfig(t)
	first := testDriver(t, cfg, fsops{})
	ctx := t.Context()
	vol := mustCreate(t, first, "vol", "a", 8*mib, false)
	snap, err := first.CreateSnapshot(ctx, sdk.CreateSnapshotRequest{ID: "snap", Volume: vol.Ref()})
	if err != nil {
		t.Fatal(err)
	}
	req := sdk.CreateVolumeRequest{ID: "copy", Pool: "b", SizeBytes: 16 * mib, Params: map[string]string{"k": "v"}}
	copied, err := first.CreateVolumeFromSnapshot(ctx, req, snap.Ref())
	if err != nil {
		t.Fatal(err)
	}
	pageBefore, _ := first.ListVolumes(ctx, sdk.ListRequest{})

	second := testDriver(t, cfg, fsops{})
	got, err := second.GetVolume(ctx, sdk.VolumeRef{ID: "copy"})
	if err != nil || !cmp.Equal(got, copied) {
		t.Errorf("GetVolume after a restart: %v\n%s", err, cmp.Diff(copied, got))
	}
	again, err := second.CreateVolumeFromSnapshot(ctx, req, snap.Ref())
	if err != nil || !cmp.Equal(again, copied) {
		t.Errorf("the same create after a restart: %v\n%s", err, cmp.Diff(copied, again))
	}
	againSnap, err := second.CreateSnapshot(ctx, sdk.CreateSnapshotRequest{ID: "snap", Volume: vol.Ref()})
	if err != nil || !cmp.Equal(againSnap, snap) {
		t.Errorf("the same snapshot after a restart: %v\n%s", err, cmp.Diff(snap, againSnap))
	}
	pageAfter, err := second.ListVolumes(ctx, sdk.ListRequest{})
	if diff := cmp.Diff(pageBefore, pageAfter); err != nil || diff != "" {
		t.Errorf("ListVolumes after a restart: %v\n%s", err, diff)
	}
	req.SizeBytes = 32 * mib
	_, err = second.CreateVolumeFromSnapshot(ctx, req, snap.Ref())
	wantCode(t, err, sdk.AlreadyExists, "VOLUME_EXISTS_DIFFERENT")
}

// TestInterruptedWork plants what a crash leaves — a file without a record, a record without
// a file, half-written files in staging — and checks that none of it counts as a volume, that
// a restart clears what is stale in staging and no more, and that creates and deletes of those
// IDs work.
func TestInterruptedWork(t *testing.T) {
	cfg := testConfig(t)
	dir := cfg.Pools[0].Path
	d := testDriver(t, cfg, fsops{})
	vols := filepath.Join(dir, volumesDir)
	sparseFile(t, filepath.Join(vols, "nofile"), mib)
	os.Remove(filepath.Join(vols, "nofile"))
	os.WriteFile(filepath.Join(vols, "nofile.json"), []byte(`{"version":1,"id":"nofile"}`), 0o600)
	sparseFile(t, filepath.Join(vols, "norecord"), mib)
	old, fresh := filepath.Join(dir, stagingDir, "volume-half"), filepath.Join(dir, stagingDir, "volume-running")
	sparseFile(t, old, mib)
	sparseFile(t, fresh, mib)
	if err := os.Chtimes(old, time.Time{}, time.Now().Add(-2*staleAfter)); err != nil {
		t.Fatal(err)
	}
	page, err := d.ListVolumes(t.Context(), sdk.ListRequest{})
	if err != nil || len(page.Volumes) != 0 {
		t.Errorf("ListVolumes of pieces: %+v, %v", page.Volumes, err)
	}
	for _, id := range []string{"nofile", "norecord"} {
		if _, err := d.GetVolume(t.Context(), sdk.VolumeRef{ID: id, Pool: "a"}); sdk.CodeOf(err) != sdk.NotFound {
			t.Errorf("GetVolume(%s): %v, want NotFound", id, err)
		}
	}
	testDriver(t, cfg, fsops{}) // a restart, or a reconfiguration while a call runs
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("a restart left a staging file untouched for %v: %v", 2*staleAfter, err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a restart removed a staging file a call may still be writing: %v", err)
	}
	mustCreate(t, d, "nofile", "a", 2*mib, true)
	if err := d.DeleteVolume(t.Context(), sdk.VolumeRef{ID: "norecord", Pool: "a"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(vols, "norecord")); !os.IsNotExist(err) {
		t.Errorf("the delete left the file of an uncommitted volume: %v", err)
	}
	if err := d.DeleteVolume(t.Context(), sdk.VolumeRef{ID: "running", Pool: "a"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Errorf("the delete left the volume's staging file: %v", err)
	}
}

func TestListVolumesPages(t *testing.T) {
	d := testDriver(t, testConfig(t), fsops{})
	var want []string
	for i := range 7 {
		id := "v" + strconv.Itoa(i)
		mustCreate(t, d, id, []string{"a", "b"}[i%2], mib, true)
		want = append(want, id)
	}
	var got []string
	req := sdk.ListRequest{Limit: 3}
	for pages := 1; ; pages++ {
		page, err := d.ListVolumes(t.Context(), req)
		if err != nil || len(page.Volumes) > 3 || pages > 3 {
			t.Fatalf("page %d: %d volumes, %v", pages, len(page.Volumes), err)
		}
		for _, v := range page.Volumes {
			got = append(got, v.ID)
		}
		if req.PageToken = page.NextPageToken; req.PageToken == "" {
			break
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("listed IDs (-want +got):\n%s", diff)
	}
	page, _ := d.ListVolumes(t.Context(), sdk.ListRequest{Pool: "b"})
	if len(page.Volumes) != 3 || page.Volumes[0].ID != "v1" {
		t.Errorf("pool b lists %+v", page.Volumes)
	}
	_, err := d.ListVolumes(t.Context(), sdk.ListRequest{Pool: "nope"})
	wantCode(t, err, sdk.InvalidArgument, "")
}

func TestConnect(t *testing.T) {
	cfg := testConfig(t)
	d := testDriver(t, cfg, fsops{})
	v := mustCreate(t, d, "v", "a", mib, true)
	c, err := d.Connect(t.Context(), v.Ref(), sdk.Initiator{Host: "h"})
	real, _ := filepath.EvalSymlinks(cfg.Pools[0].Path)
	want := sdk.Connection{Protocol: "file", Data: map[string]string{"path": filepath.Join(real, volumesDir, "v"), "format": "raw"}}
	if diff := cmp.Diff(want, c); err != nil || diff != "" {
		t.Errorf("Connect: %v\n%s", err, diff)
	}
	if err := d.Disconnect(t.Context(), v.Ref(), sdk.Initiator{Host: "h"}); err != nil {
		t.Error(err)
	}
	_, err = d.Connect(t.Context(), sdk.VolumeRef{ID: "gone", Pool: "a"}, sdk.Initiator{})
	wantCode(t, err, sdk.NotFound, "VOLUME_NOT_FOUND")
}

func TestNoSpace(t *testing.T) {
	d := testDriver(t, testConfig(t), fsops{})
	free := poolReport(t, d, "a").FreeBytes
	_, err := d.CreateVolume(t.Context(), sdk.CreateVolumeRequest{ID: "big", Pool: "a", SizeBytes: free + 1<<30, Thin: new(false)})
	wantCode(t, err, sdk.NoSpace, "POOL_FULL")

	// ENOSPC from the kernel after the first GiB: NoSpace, and the volume keeps its size and
	// gives back what was preallocated past its end.
	enospc := fsops{fallocate: func(fd int, mode uint32, off, n int64) error {
		if off >= 1<<30 {
			return unix.ENOSPC
		}
		return unix.Fallocate(fd, mode, off, n)
	}}
	d = testDriver(t, testConfig(t), enospc)
	v := mustCreate(t, d, "v", "a", mib, false)
	_, err = d.ExtendVolume(t.Context(), v.Ref(), 3<<30)
	wantCode(t, err, sdk.NoSpace, "POOL_FULL")
	if got, _ := d.GetVolume(t.Context(), v.Ref()); got.SizeBytes != mib || allocated(t, v.ProviderData["path"]) > 2*mib {
		t.Errorf("after a failed extend: %d bytes, %d allocated", got.SizeBytes, allocated(t, v.ProviderData["path"]))
	}
}

// TestCapacity: a pool with a capacity reports it as its total and what its files leave of it
// as free, and refuses thick volumes beyond it.
func TestCapacity(t *testing.T) {
	cfg := testConfig(t)
	cfg.Pools[0].Capacity = 64 * mib
	d := testDriver(t, cfg, fsops{})
	if p := poolReport(t, d, "a"); p.TotalBytes != 64*mib || p.FreeBytes != 64*mib {
		t.Fatalf("empty pool with a capacity: total %d, free %d", p.TotalBytes, p.FreeBytes)
	}
	v := mustCreate(t, d, "thick", "a", 48*mib, false)
	if _, err := d.CreateSnapshot(t.Context(), sdk.CreateSnapshotRequest{ID: "s", Volume: v.Ref()}); err != nil {
		t.Fatal(err)
	}
	writeAt(t, mustCreate(t, d, "thin", "a", 1<<30, true).ProviderData["path"], 0, make([]byte, 4*mib))
	p := poolReport(t, d, "a")
	if p.FreeBytes > 12*mib || p.FreeBytes < 11*mib {
		t.Errorf("after 48 MiB thick and 4 MiB written thin: free %d, want about 12 MiB", p.FreeBytes)
	}
	_, err := d.CreateVolume(t.Context(), sdk.CreateVolumeRequest{ID: "big", Pool: "a", SizeBytes: 16 * mib, Thin: new(false)})
	wantCode(t, err, sdk.NoSpace, "POOL_FULL")
}
