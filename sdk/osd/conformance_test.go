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
	t.Run("capacity-callback", testCapacityCallback)
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

// testCapacityCallback runs the kit with Options.Capacity reporting a bounded thick pool from the
// in-memory driver's volumes, so that the size and accounting clauses run too.
func testCapacityCallback(t *testing.T) {
	backend := newMem(true)
	const total = 4 << 30
	capacity := func(context.Context) (sdk.Capacity, error) {
		var used int64
		vols, _ := backend.Enumerate(nil, nil)
		for _, v := range vols {
			used += int64(v.GetSpec().GetSize())
		}
		return sdk.Capacity{Pools: []sdk.Pool{{Name: "mem", TotalBytes: total, FreeBytes: total - used,
			ProvisionedBytes: used, Thick: true, GranularityBytes: 1 << 20, MinVolumeBytes: 2 << 20,
			MaxVolumeBytes: 1 << 30, Features: &sdk.FeatureSet{Snapshots: true, CreateFromSnapshot: true, Clone: true}}}}, nil
	}
	p := osd.Plugin("osdmem", "0.0.1", func(context.Context, memConfig, sdk.Env) (volume.VolumeDriver, osd.Options, error) {
		return backend, osd.Options{Capacity: capacity, Pool: "mem"}, nil
	})
	drivertest.Run(t, drivertest.Config{Plugin: p, VolumeBytes: 64 << 20, Skip: map[string]string{
		"A4": "openstorage v1.0.0 VolumeDrivers report no capacity, so the in-memory one enforces none",
	}})
}
