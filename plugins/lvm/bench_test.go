package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kilnstorage/kiln/sdk"
)

// benchBytes is the size of every benchmark LV.
const benchBytes = 64 << 20

// BenchmarkCreateDelete compares a create and a delete through the driver with the same
// lvcreate and lvremove argument vectors run bare with the same lvm.conf, interleaved in every
// iteration and alternating which goes first, and reports both and their ratio (the issue's
// target: ≤ 1.05). "launched" calls the kiln-driver-lvm binary started by sdk.Launch (gRPC,
// AutoMTLS), and also times the process boundary alone, with a call the SDK refuses before the
// driver runs any command: back to back (rpc-ms/op), and right after a bare lvm2 command, as
// every call in the comparison comes after one (rpc-cold-ms/op). "launched-100-lvs" is
// "launched" with 100 other LVs in the VG. "in-process" calls the driver's methods directly.
func BenchmarkCreateDelete(b *testing.B) {
	b.Run("launched", func(b *testing.B) {
		vg, client, bare := launchBench(b, 0)
		compare(b, vg, bare, createDelete(client))
		b.ReportMetric(roundTrip(b, client, nil), "rpc-ms/op")
		b.ReportMetric(roundTrip(b, client, func() {
			if err := bareRun(bare, vgsArgs(vg.name)); err != nil {
				b.Fatal(err)
			}
		}), "rpc-cold-ms/op")
	})
	// The same with 100 other LVs in the VG, as a backend in use holds: lvm2 then takes longer
	// per command (limits.md §3), the process boundary does not.
	b.Run("launched-100-lvs", func(b *testing.B) {
		vg, client, bare := launchBench(b, 100)
		compare(b, vg, bare, createDelete(client))
	})
	b.Run("in-process", func(b *testing.B) {
		vg := loopVG(b, vgBytes)
		d := newDriverB(b, vg)
		compare(b, vg, d.lvm.(*runner), func(ctx context.Context, req sdk.CreateVolumeRequest) error {
			v, err := d.CreateVolume(ctx, req)
			if err == nil {
				err = d.DeleteVolume(ctx, v.Ref())
			}
			return err
		})
	})
}

// launchBench makes a loop VG holding fill LVs, launches the driver binary on it, and returns
// them with a runner for the bare commands (the driver's lvm.conf).
func launchBench(b *testing.B, fill int) (*testVG, *sdk.Client, *runner) {
	vg := loopVG(b, vgBytes)
	cfg := vg.config(b)
	cfg["activation"] = "off"
	client := launch(b, cfg)
	for i := range fill {
		req := sdk.CreateVolumeRequest{ID: fmt.Sprintf("fill-%d", i), Pool: "thick", SizeBytes: benchBytes}
		if _, err := client.CreateVolume(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
	return vg, client, newRunner(vg.lvm, filepath.Join(cfg["state_dir"].(string), "bench", "etc"), time.Second, nopLogger{})
}

// createDelete creates a volume through client and deletes it.
func createDelete(client *sdk.Client) func(context.Context, sdk.CreateVolumeRequest) error {
	return func(ctx context.Context, req sdk.CreateVolumeRequest) error {
		v, err := client.CreateVolume(ctx, req)
		if err == nil {
			err = client.DeleteVolume(ctx, v.Ref())
		}
		return err
	}
}

// launch starts the built driver binary as the host does and configures it with cfg.
func launch(b *testing.B, cfg map[string]any) *sdk.Client {
	ctx := context.Background()
	client, err := sdk.Launch(ctx, sdk.LaunchConfig{Path: buildDriver(b), LogLevel: "warn"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(client.Kill)
	raw, _ := json.Marshal(cfg)
	if _, err := client.Configure(ctx, sdk.ConfigureRequest{Backend: "bench", Config: raw}); err != nil {
		b.Fatal(err)
	}
	if _, err := client.Capacity(ctx); err != nil {
		b.Fatal(err)
	}
	return client
}

// roundTrip is the mean time in milliseconds of a call that crosses the process boundary and
// nothing else: GetVolume without an ID, which the SDK refuses before the driver (so the
// driver neither runs a command nor logs). before, if set, runs untimed ahead of each call.
func roundTrip(b *testing.B, client *sdk.Client, before func()) float64 {
	const probes = 300
	var took time.Duration
	for range probes {
		if before != nil {
			before()
		}
		start := time.Now()
		_, err := client.GetVolume(context.Background(), sdk.VolumeRef{Pool: "thick"})
		took += time.Since(start)
		if sdk.CodeOf(err) != sdk.InvalidArgument {
			b.Fatalf("GetVolume without an ID: want InvalidArgument, got %v", err)
		}
	}
	return float64(took) / float64(time.Millisecond) / probes
}

// compare runs createDelete and the bare commands once each per iteration, in alternating
// order, and reports both and their ratio.
func compare(b *testing.B, vg *testVG, bare *runner, createDelete func(context.Context, sdk.CreateVolumeRequest) error) {
	ctx := context.Background()
	pool := PoolConfig{Name: "thick", VG: vg.name}
	var viaDriver, direct time.Duration
	i := 0
	for b.Loop() {
		id := fmt.Sprintf("bench-%d", i)
		drv := func() {
			start := time.Now()
			err := createDelete(ctx, sdk.CreateVolumeRequest{ID: id, Pool: "thick", SizeBytes: benchBytes})
			viaDriver += time.Since(start)
			if err != nil {
				b.Fatal(err)
			}
		}
		cmd := func() {
			s := spec{pool: pool, id: "bare-" + id, size: benchBytes}
			start := time.Now()
			err := bareRun(bare, createArgs(s))
			if err == nil {
				err = bareRun(bare, removeArgs(s.lv(), false))
			}
			direct += time.Since(start)
			if err != nil {
				b.Fatal(err)
			}
		}
		if i%2 == 0 {
			drv()
			cmd()
		} else {
			cmd()
			drv()
		}
		i++
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) / float64(i) }
	b.ReportMetric(ms(viaDriver), "driver-ms/op")
	b.ReportMetric(ms(direct), "bare-ms/op")
	b.ReportMetric(float64(viaDriver)/float64(direct), "ratio")
}

// bareRun runs lvm args as plainly as a shell would: one process, the same environment.
func bareRun(r *runner, args []string) error {
	cmd := exec.Command(r.bin, args...)
	cmd.Env = r.env
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("lvm %v: %v: %s", args, err, out)
	}
	return nil
}

// BenchmarkParallelCreate creates and deletes 32 LVs from 8 goroutines through the driver in
// process, once per width of the per-VG queue (vg_commands 1, 2, 4, and 0: every call racing
// for lvm2's VG lock), interleaved round by round, and reports volumes created and deleted per
// second for each.
func BenchmarkParallelCreate(b *testing.B) {
	vg := loopVG(b, vgBytes)
	widths := []int{1, 2, 4, 0}
	drivers := make([]*Driver, len(widths))
	for i, w := range widths {
		drivers[i] = newDriverB(b, vg)
		drivers[i].locks = newVGLocks(w)
	}
	took := make([]time.Duration, len(widths))
	const lvs, workers = 32, 8
	round := 0
	for b.Loop() {
		for k := range widths {
			k = (k + round) % len(widths) // rotate who goes first
			start := time.Now()
			parallelRound(b, drivers[k], fmt.Sprintf("p%d-%d", round, k), lvs, workers)
			took[k] += time.Since(start)
		}
		round++
	}
	for k, w := range widths {
		b.ReportMetric(float64(round*lvs)/took[k].Seconds(), fmt.Sprintf("volumes/s-width%d", w))
	}
}

// parallelRound creates and deletes n volumes with the given number of goroutines.
func parallelRound(b *testing.B, d *Driver, prefix string, n, workers int) {
	ids := make(chan string, n)
	for j := range n {
		ids <- fmt.Sprintf("%s-%d", prefix, j)
	}
	close(ids)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for id := range ids {
				v, err := d.CreateVolume(context.Background(), sdk.CreateVolumeRequest{ID: id, Pool: "thick", SizeBytes: benchBytes})
				if err == nil {
					err = d.DeleteVolume(context.Background(), v.Ref())
				}
				if err != nil {
					b.Error(err)
				}
			}
		})
	}
	wg.Wait()
}

// newDriverB is newDriver for a benchmark.
func newDriverB(b *testing.B, vg *testVG) *Driver {
	cfg := Config{StateDir: b.TempDir(), Pools: []PoolConfig{{Name: "thick", VG: vg.name}},
		Activation: "off", Wipe: "none", LVM: "lvm", VGCommands: 4, Archives: 20, Grace: 5 * time.Second,
		LVMConfig: vg.config(b)["lvm_config"].(string)}
	d, err := New(context.Background(), cfg, sdk.Env{Backend: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// BenchmarkUseAIO runs the same bare lvcreate and lvremove with the driver's lvm.conf as
// written with use_aio = 0 (the default) and = 1 (lvm2's own default), interleaved, and reports
// both and how many times slower AIO is.
func BenchmarkUseAIO(b *testing.B) {
	vg := loopVG(b, vgBytes)
	filter := vg.config(b)["lvm_config"].(string)
	runners := make(map[bool]*runner)
	for _, aio := range []bool{false, true} {
		etc, err := writeLVMConf(b.TempDir(), lvmConf{useAIO: aio, archives: 20, extra: filter})
		if err != nil {
			b.Fatal(err)
		}
		runners[aio] = newRunner(vg.lvm, etc, time.Second, nopLogger{})
	}
	took := map[bool]time.Duration{}
	i := 0
	for b.Loop() {
		for _, aio := range []bool{i%2 == 0, i%2 != 0} {
			s := spec{pool: PoolConfig{Name: "thick", VG: vg.name}, id: fmt.Sprintf("aio-%d-%v", i, aio), size: benchBytes}
			start := time.Now()
			err := bareRun(runners[aio], createArgs(s))
			if err == nil {
				err = bareRun(runners[aio], removeArgs(s.lv(), false))
			}
			took[aio] += time.Since(start)
			if err != nil {
				b.Fatal(err)
			}
		}
		i++
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) / float64(i) }
	b.ReportMetric(ms(took[false]), "noaio-ms/op")
	b.ReportMetric(ms(took[true]), "aio-ms/op")
	b.ReportMetric(float64(took[true])/float64(took[false]), "aio-slowdown")
}
