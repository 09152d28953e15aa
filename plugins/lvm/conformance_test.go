package main

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/kilnstorage/kiln/sdk/drivertest"
)

// vgBytes is the size of the sparse file behind each test VG: room for the kit's eight parallel
// 1 GiB volumes and more, at no cost on disk.
const vgBytes = 32 << 30

// TestConformance runs the conformance kit against a real loop-device VG, in process, over a
// gRPC pair and against the built binary. Activation is auto: on a host without device-mapper
// the pools advertise no snapshots or copies and the thin pool is down, so the kit skips those
// clauses with that reason; on a host with it, they run.
func TestConformance(t *testing.T) {
	requireLVM(t)
	bin := buildDriver(t)
	for _, tr := range []drivertest.Transport{drivertest.Direct, drivertest.GRPC, drivertest.Binary} {
		t.Run(tr.String(), func(t *testing.T) {
			vg := loopVG(t, vgBytes)
			drivertest.Run(t, drivertest.Config{Plugin: Plugin, Binary: bin, Transport: tr,
				DriverConfig: vg.config(t), Pool: "thick"})
		})
	}
	// With use_aio on (lvm2's default) every command takes ~40 ms, longer than Z1's 20 ms
	// deadline, so Z1 cancels a create mid-call instead of skipping as "finished in time".
	t.Run("aio/Z1", func(t *testing.T) {
		vg := loopVG(t, vgBytes)
		cfg := vg.config(t)
		cfg["use_aio"] = true
		skip := map[string]string{}
		for _, g := range []string{"C", "P", "I", "S", "F", "A", "E", "K", "R", "H", "L"} {
			skip[g] = "this run only exercises Z1 with slower commands"
		}
		drivertest.Run(t, drivertest.Config{Plugin: Plugin, Transport: drivertest.GRPC,
			DriverConfig: cfg, Pool: "thick", Skip: skip})
	})
}

// buildDriver builds kiln-driver-lvm into a temporary directory.
func buildDriver(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kiln-driver-lvm")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
