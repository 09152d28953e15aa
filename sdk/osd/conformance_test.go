package osd_test

import (
	"context"
	"testing"

	"github.com/kilnstorage/kiln/sdk"
	"github.com/kilnstorage/kiln/sdk/drivertest"
	"github.com/kilnstorage/kiln/sdk/osd"
	"github.com/libopenstorage/openstorage/volume"
)

type memConfig struct {
	Extend bool `kiln:"extend" doc:"Offer extend through VolumeDriver.Set."`
}

// TestConformance runs the kit against the adapter around the in-memory VolumeDriver. The
// openstorage driver is the backend: it outlives the adapter across the kit's restarts, as a
// storage array outlives a driver process.
func TestConformance(t *testing.T) {
	for _, tr := range []drivertest.Transport{drivertest.Direct, drivertest.GRPC} {
		t.Run(tr.String(), func(t *testing.T) {
			backend := newMem(true)
			p := osd.Plugin("osdmem", "0.0.1", func(context.Context, memConfig, sdk.Env) (volume.VolumeDriver, osd.Options, error) {
				return backend, osd.Options{Extend: true}, nil
			})
			drivertest.Run(t, drivertest.Config{Plugin: p, Transport: tr, VolumeBytes: 1 << 20,
				DriverConfig: map[string]any{"extend": true}})
		})
	}
}
