package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/kilnstorage/kiln/sdk"
	"github.com/kilnstorage/kiln/sdk/drivertest"
)

// mkfs is how each loop filesystem of the tests is made, and the package that has the tool.
var mkfs = map[string]struct {
	args    []string
	pkgName string
}{
	"xfs":   {[]string{"mkfs.xfs", "-q", "-m", "reflink=1"}, "xfsprogs"},
	"btrfs": {[]string{"mkfs.btrfs", "-q"}, "btrfs-progs"},
}

// loopFS makes a filesystem of kind in a 1 GiB sparse image, mounts it through a loop device
// and returns a pool directory in it. It skips, saying why, when this host cannot: not root,
// the mkfs tool missing, or no loop devices.
func loopFS(t *testing.T, kind string) string {
	t.Helper()
	if uid := os.Geteuid(); uid != 0 {
		t.Skipf("SKIPPED: mounting a loop %s filesystem needs root; running as uid %d", kind, uid)
	}
	m := mkfs[kind]
	if _, err := exec.LookPath(m.args[0]); err != nil {
		t.Skipf("SKIPPED: %s not found (apt-get install %s): %v", m.args[0], m.pkgName, err)
	}
	dir := t.TempDir()
	img, mnt := filepath.Join(dir, kind+".img"), filepath.Join(dir, "mnt")
	mkdirs(t, mnt)
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 1<<30); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(m.args[0], append(m.args[1:], img)...).CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", m.args, err, out)
	}
	if out, err := exec.Command("mount", "-o", "loop", img, mnt).CombinedOutput(); err != nil {
		t.Skipf("SKIPPED: mount -o loop of a %s image failed (no loop devices here?): %v\n%s", kind, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v\n%s", mnt, err, out)
		}
	})
	pool := filepath.Join(mnt, "pool")
	mkdirs(t, pool)
	return pool
}

// TestReflinkFilesystems runs the driver on real XFS and btrfs filesystems: the probe finds
// reflink, copies share extents instead of taking space, thick volumes are preallocated, and
// the whole conformance kit passes there.
func TestReflinkFilesystems(t *testing.T) {
	for _, kind := range []string{"xfs", "btrfs"} {
		t.Run(kind, func(t *testing.T) {
			dir := loopFS(t, kind)
			cfg := Config{Pools: []PoolConfig{{Name: "r", Path: dir, Thin: true, Thick: true, Reflink: true, Granularity: mib}}}
			d := testDriver(t, cfg, fsops{})
			p := poolReport(t, d, "r")
			if p.Attributes["filesystem"].Str != kind || p.Attributes["copy_method"].Str != copyReflink || !p.Thick {
				t.Fatalf("report of a %s pool: %+v", kind, p.Attributes)
			}
			thick := mustCreate(t, d, "thick", "r", 64*mib, false)
			if got := allocated(t, thick.ProviderData["path"]); got < 64*mib {
				t.Errorf("a thick 64 MiB volume allocates %d bytes", got)
			}
			if _, err := d.ExtendVolume(t.Context(), thick.Ref(), 96*mib); err != nil {
				t.Fatal(err)
			}
			if got := allocated(t, thick.ProviderData["path"]); got < 96*mib {
				t.Errorf("a thick volume extended to 96 MiB allocates %d bytes", got)
			}
			src := mustCreate(t, d, "src", "r", 64*mib, true)
			data := make([]byte, 32*mib)
			for i := range data {
				data[i] = byte(i % 251)
			}
			writeAt(t, src.ProviderData["path"], 0, data)
			free := poolReport(t, d, "r").FreeBytes
			v, err := d.CloneVolume(t.Context(), sdk.CreateVolumeRequest{ID: "clone", Pool: "r", SizeBytes: 64 * mib}, src.Ref())
			if err != nil || v.ProviderData["copy_method"] != copyReflink {
				t.Fatalf("clone: %+v, %v", v, err)
			}
			sameContent(t, src.ProviderData["path"], v.ProviderData["path"])
			if used := free - poolReport(t, d, "r").FreeBytes; used > 8*mib {
				t.Errorf("a reflink clone of 32 MiB of data used %d bytes", used)
			}
		})
	}
}

// TestConformanceReflink runs the kit against pools on XFS and btrfs, where snapshots, clones
// and restores are reflinks. The capacity keeps the accounting clauses exact although both
// filesystems give deleted blocks back to statfs late (see kitCapacity).
func TestConformanceReflink(t *testing.T) {
	for _, kind := range []string{"xfs", "btrfs"} {
		t.Run(kind, func(t *testing.T) {
			dir := loopFS(t, kind)
			drivertest.Run(t, drivertest.Config{Plugin: plugin, Transport: drivertest.Direct,
				DriverConfig: map[string]any{"pool": []map[string]any{{"name": "r", "path": dir,
					"capacity": "512MiB", "min_volume": "8MiB", "max_volume": "1TiB"}}},
				VolumeBytes: 128 * mib})
		})
	}
}
