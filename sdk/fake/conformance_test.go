package fake_test

import (
	"testing"

	"github.com/kilnstorage/kiln/sdk/drivertest"
	"github.com/kilnstorage/kiln/sdk/fake"
)

// TestConformance runs the kit in process, directly and over gRPC; plugins/fake runs it against
// the built binary.
func TestConformance(t *testing.T) {
	for _, tr := range []drivertest.Transport{drivertest.Direct, drivertest.GRPC} {
		t.Run(tr.String(), func(t *testing.T) {
			drivertest.Run(t, drivertest.Config{Plugin: fake.Plugin, Transport: tr,
				DriverConfig: fake.KitConfig(t.TempDir(), nil)})
		})
	}
	t.Run("independent-snapshots", func(t *testing.T) {
		drivertest.Run(t, drivertest.Config{Plugin: fake.Plugin, Transport: drivertest.GRPC,
			DriverConfig: fake.KitConfig(t.TempDir(), nil), Pool: "indep"})
	})
}
