package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kilnstorage/kiln/sdk"
	"golang.org/x/sys/unix"
)

func TestUnsafeIDsRefused(t *testing.T) {
	d := testDriver(t, testConfig(t), fsops{})
	ids := []string{"", ".", "..", "../x", "a/b", "/etc/passwd", "v.json", "x\x00y", " v", "-v",
		strings.Repeat("v", 129)}
	ctx := t.Context()
	for _, id := range ids {
		t.Run(id, func(t *testing.T) {
			_, err := d.CreateVolume(ctx, sdk.CreateVolumeRequest{ID: id, Pool: "a", SizeBytes: mib})
			wantCode(t, err, sdk.InvalidArgument, "UNSAFE_ID")
			_, err = d.GetVolume(ctx, sdk.VolumeRef{ID: id, Pool: "a"})
			wantCode(t, err, sdk.InvalidArgument, "UNSAFE_ID")
			wantCode(t, d.DeleteVolume(ctx, sdk.VolumeRef{ID: id, Pool: "a"}), sdk.InvalidArgument, "UNSAFE_ID")
			_, err = d.CloneVolume(ctx, sdk.CreateVolumeRequest{ID: "ok", Pool: "a", SizeBytes: mib}, sdk.VolumeRef{ID: id})
			wantCode(t, err, sdk.InvalidArgument, "UNSAFE_ID")
			_, err = d.CreateSnapshot(ctx, sdk.CreateSnapshotRequest{ID: id, Volume: sdk.VolumeRef{ID: "ok"}})
			wantCode(t, err, sdk.InvalidArgument, "UNSAFE_ID")
		})
	}
}

// TestForeignFilesRefused plants what the driver never makes — a symbolic link where a volume
// belongs, and a volumes directory that leads out of the pool — and checks that no call
// follows, changes or removes them, nor what they point at.
func TestForeignFilesRefused(t *testing.T) {
	cfg := testConfig(t)
	d := testDriver(t, cfg, fsops{})
	outside := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(outside, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	vols := filepath.Join(cfg.Pools[0].Path, volumesDir)
	if err := os.Symlink(outside, filepath.Join(vols, "planted")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(vols, "planted.json"), []byte(`{"version":1,"id":"planted","thin":true}`), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, ref := t.Context(), sdk.VolumeRef{ID: "planted", Pool: "a"}
	_, err := d.GetVolume(ctx, ref)
	wantCode(t, err, sdk.Internal, "FOREIGN_OBJECT")
	_, err = d.Connect(ctx, ref, sdk.Initiator{})
	wantCode(t, err, sdk.Internal, "FOREIGN_OBJECT")
	_, err = d.ExtendVolume(ctx, ref, 100*mib)
	wantCode(t, err, sdk.Internal, "FOREIGN_OBJECT")
	wantCode(t, d.DeleteVolume(ctx, ref), sdk.Internal, "FOREIGN_OBJECT")
	_, err = d.CreateVolume(ctx, sdk.CreateVolumeRequest{ID: "planted", Pool: "a", SizeBytes: mib})
	wantCode(t, err, sdk.Internal, "FOREIGN_OBJECT")
	if data, err := os.ReadFile(outside); err != nil || string(data) != "secret" {
		t.Errorf("the file outside the pool now holds %q (%v)", data, err)
	}

	// The volumes directory itself swapped for a link out of the pool.
	escape := t.TempDir()
	if err := os.Rename(vols, vols+".old"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(escape, vols); err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateVolume(ctx, sdk.CreateVolumeRequest{ID: "v", Pool: "a", SizeBytes: mib}); err == nil {
		t.Error("CreateVolume through a volumes directory that leaves the pool succeeded")
	}
	if entries, _ := os.ReadDir(escape); len(entries) > 0 {
		t.Errorf("the driver wrote outside the pool: %v", entries)
	}
}

func TestInside(t *testing.T) {
	dir := t.TempDir()
	mkdirs(t, filepath.Join(dir, "sub"))
	if err := os.Symlink("/etc", filepath.Join(dir, "out")); err != nil {
		t.Fatal(err)
	}
	for path, ok := range map[string]bool{
		dir: true, dir + "/sub": true, dir + "/sub/../sub": true,
		dir + "/out": false, dir + "/sub/../..": false, dir + "/../" + filepath.Base(dir) + "x": false,
	} {
		if err := inside(dir, path); (err == nil) != ok {
			t.Errorf("inside(%s): %v, want ok=%v", path, err, ok)
		}
	}
}

func TestPoolDownUntilItsDirectoryExists(t *testing.T) {
	cfg := testConfig(t)
	missing := filepath.Join(t.TempDir(), "later")
	cfg.Pools[1].Path = missing
	d := testDriver(t, cfg, fsops{})
	if err := d.Probe(t.Context()); err != nil {
		t.Errorf("Probe with one pool of two up: %v", err)
	}
	p := poolReport(t, d, "b")
	if p.State != sdk.PoolDown || !p.CapacityUnknown || !strings.Contains(p.StateReason, "later") {
		t.Fatalf("pool with a missing directory: state %v (%q), unknown %v", p.State, p.StateReason, p.CapacityUnknown)
	}
	_, err := d.CreateVolume(t.Context(), sdk.CreateVolumeRequest{ID: "v", Pool: "b", SizeBytes: mib})
	wantCode(t, err, sdk.Unavailable, "POOL_DOWN")
	// The other pool goes on working, but a listing of every pool cannot be complete.
	up := mustCreate(t, d, "up", "a", mib, true)
	if _, err := d.GetVolume(t.Context(), up.Ref()); err != nil {
		t.Errorf("GetVolume in the pool that is up: %v", err)
	}
	if page, err := d.ListVolumes(t.Context(), sdk.ListRequest{Pool: "a"}); err != nil || len(page.Volumes) != 1 {
		t.Errorf("ListVolumes of the pool that is up: %+v, %v", page, err)
	}
	_, err = d.ListVolumes(t.Context(), sdk.ListRequest{})
	wantCode(t, err, sdk.Unavailable, "POOL_DOWN")
	mkdirs(t, missing) // the mount arrives
	if p := poolReport(t, d, "b"); p.State != sdk.PoolUp {
		t.Fatalf("pool after its directory appeared: %v (%s)", p.State, p.StateReason)
	}
	mustCreate(t, d, "v", "b", mib, true)
}

func TestRequireMount(t *testing.T) {
	cfg := testConfig(t)
	cfg.Pools[0].RequireMount, cfg.Pools[1].RequireMount = true, true
	d := testDriver(t, cfg, fsops{})
	p := poolReport(t, d, "a")
	if p.State != sdk.PoolDown || !strings.Contains(p.StateReason, "not a mount point") {
		t.Errorf("pool in a plain directory with require_mount: %v (%q)", p.State, p.StateReason)
	}
	wantCode(t, d.Probe(t.Context()), sdk.Unavailable, "NO_POOL_UP")
}

// TestNoFallocate plays a filesystem without fallocate (NFSv3, for one): thick volumes are not
// offered, the report says why, and a thick-only pool is down.
func TestNoFallocate(t *testing.T) {
	cfg := testConfig(t)
	cfg.Pools[1].Thin = false
	d := testDriver(t, cfg, fsops{fallocate: func(int, uint32, int64, int64) error { return unix.EOPNOTSUPP }})
	a := poolReport(t, d, "a")
	if a.State != sdk.PoolUp || !a.Thin || a.Thick || a.Attributes["fallocate"] != sdk.BoolAttr(false) {
		t.Errorf("pool a: state %v thin %v thick %v fallocate %+v", a.State, a.Thin, a.Thick, a.Attributes["fallocate"])
	}
	_, err := d.CreateVolume(t.Context(), sdk.CreateVolumeRequest{ID: "v", Pool: "a", SizeBytes: mib, Thin: new(false)})
	wantCode(t, err, sdk.InvalidArgument, "INVALID_THIN")
	if b := poolReport(t, d, "b"); b.State != sdk.PoolDown || !strings.Contains(b.StateReason, "fallocate") {
		t.Errorf("thick-only pool b: %v (%q)", b.State, b.StateReason)
	}
}

func TestOverlappingPoolsRefused(t *testing.T) {
	cfg := testConfig(t)
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(cfg.Pools[0].Path, link); err != nil {
		t.Fatal(err)
	}
	cfg.Pools[1].Path = link
	_, err := newDriver(cfg, discard{}, systemFS())
	wantCode(t, err, sdk.InvalidArgument, "")
}
