package fake

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/kilnstorage/kiln/sdk"
)

// seeded returns a driver whose backend already holds n thin volumes, written as a state file
// rather than created one by one so that the setup stays cheap.
func seeded(b *testing.B, n int) *Driver {
	b.Helper()
	dir := b.TempDir()
	s := newState()
	for i := range n {
		s.Serial++
		s.Volumes[s.Serial] = volume{Object: s.Serial, ID: fmt.Sprintf("seed-%05d", i), Pool: "slow",
			SizeBytes: mib, RequestedBytes: mib, Thin: true}
	}
	if err := s.save(filepath.Join(dir, "test.json")); err != nil {
		b.Fatal(err)
	}
	d, err := New(context.Background(), Config{StateDir: dir}, sdk.Env{Backend: "test"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close(context.Background()) })
	return d
}

// BenchmarkCreateVolume measures a durable create on a backend of 1,000 volumes, one caller at
// a time and from GOMAXPROCS callers at once.
func BenchmarkCreateVolume(b *testing.B) {
	create := func(b *testing.B, d *Driver, n *atomic.Int64) {
		req := sdk.CreateVolumeRequest{ID: fmt.Sprintf("v-%d", n.Add(1)), Pool: "slow", SizeBytes: mib}
		if _, err := d.CreateVolume(context.Background(), req); err != nil {
			b.Error(err)
		}
	}
	b.Run("sequential", func(b *testing.B) {
		d, n := seeded(b, 1000), new(atomic.Int64)
		for b.Loop() {
			create(b, d, n)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		d, n := seeded(b, 1000), new(atomic.Int64)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				create(b, d, n)
			}
		})
	})
}
