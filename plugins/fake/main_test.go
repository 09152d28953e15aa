package main

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/kilnstorage/kiln/sdk/drivertest"
	"github.com/kilnstorage/kiln/sdk/fake"
)

// TestConformance runs the kit against the built kiln-driver-fake binary, launched as the host
// launches it.
func TestConformance(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "kiln-driver-fake")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	drivertest.Run(t, drivertest.Config{Binary: bin, DriverConfig: fake.KitConfig(t.TempDir(), nil)})
}
