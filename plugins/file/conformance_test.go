package main

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/kilnstorage/kiln/sdk/drivertest"
)

// kitCapacity caps the kit's pool. Its directory is in t.TempDir(), on a filesystem that other
// programs (and other copies of this test) write to at the same time, and whose deletes some
// filesystems account for late (XFS frees in the background, btrfs at its next commit). With a
// capacity below the filesystem's free space, the pool's free bytes are the capacity less what
// its own files take, so the accounting clauses measure the driver alone; and A4's "fill the
// pool" is refused by the driver's check against the capacity, instead of racing other
// programs for the last free bytes of a shared disk.
const kitCapacity = "16GiB"

// kitConfig is a configuration with two pools in fresh directories: "a", the kit's, thin and
// thick with bounds (so that the size clauses run; the maximum exceeds the capacity, so that
// A4 runs too), and "b", thin only.
func kitConfig(t testing.TB) map[string]any {
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	mkdirs(t, a, b)
	return map[string]any{"pool": []map[string]any{
		{"name": "a", "path": a, "capacity": kitCapacity, "min_volume": "8MiB", "max_volume": "1PiB"},
		{"name": "b", "path": b, "thick": false},
	}}
}

// TestConformance runs the whole kit over the three transports: in process, over an
// in-process gRPC pair, and against the built binary as the host launches it.
func TestConformance(t *testing.T) {
	for _, tr := range []drivertest.Transport{drivertest.Direct, drivertest.GRPC} {
		t.Run(tr.String(), func(t *testing.T) {
			drivertest.Run(t, drivertest.Config{Plugin: plugin, Transport: tr, Pool: "a",
				DriverConfig: kitConfig(t)})
		})
	}
	t.Run("binary", func(t *testing.T) {
		bin := filepath.Join(t.TempDir(), "kiln-driver-file")
		if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
		drivertest.Run(t, drivertest.Config{Binary: bin, Pool: "a", DriverConfig: kitConfig(t)})
	})
}
