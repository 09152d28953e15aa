package main

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/kilnstorage/kiln/sdk"
)

// BenchmarkCreateDelete creates and deletes a 1 GiB volume through the driver, as the host
// calls it in process (sdk.Direct: size checks, per-ID locks, error normalization, no wire).
// Each iteration is one create (file, fallocate for thick, fsync, record, renames, directory
// fsync) and one delete. Run it with:
//
//	go test -run '^$' -bench CreateDelete -benchtime 200x -count 5 ./plugins/file
func BenchmarkCreateDelete(b *testing.B) {
	for _, thin := range []bool{true, false} {
		name := map[bool]string{true: "thin-1GiB", false: "thick-1GiB"}[thin]
		b.Run(name, func(b *testing.B) {
			c := benchClient(b)
			ctx := b.Context()
			var creating, deleting time.Duration
			b.ResetTimer()
			for i := range b.N {
				req := sdk.CreateVolumeRequest{ID: fmt.Sprintf("bench-%d", i), Pool: "a", SizeBytes: 1 << 30, Thin: &thin}
				start := time.Now()
				v, err := c.CreateVolume(ctx, req)
				if err != nil {
					b.Fatal(err)
				}
				created := time.Now()
				if err := c.DeleteVolume(ctx, v.Ref()); err != nil {
					b.Fatal(err)
				}
				creating += created.Sub(start)
				deleting += time.Since(created)
			}
			b.ReportMetric(float64(creating.Microseconds())/float64(b.N), "create-µs/op")
			b.ReportMetric(float64(deleting.Microseconds())/float64(b.N), "delete-µs/op")
		})
	}
}

// benchClient serves the driver in process over a pool with the default settings in a fresh
// directory.
func benchClient(b *testing.B) *sdk.Client {
	raw, err := json.Marshal(map[string]any{"pool": []map[string]any{{"name": "a", "path": b.TempDir()}}})
	if err != nil {
		b.Fatal(err)
	}
	c := sdk.Direct(plugin)
	b.Cleanup(c.Kill)
	if _, err := c.Configure(b.Context(), sdk.ConfigureRequest{Backend: "bench", Config: raw}); err != nil {
		b.Fatal(err)
	}
	return c
}
