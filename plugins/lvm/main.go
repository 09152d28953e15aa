// Command kiln-driver-lvm is the LVM storage driver as a Kiln driver binary: volumes are logical
// volumes made with the lvm2 commands, in volume groups (thick pools) and thin pools named in the
// backend's configuration. Every lvm2 command runs through one wrapper (command.go) with the
// driver's own lvm.conf (lvmconf.go), and every failure is classified in one function
// (classify.go). On a host without device-mapper the driver runs with activation disabled and
// reports only what it can then do: thick volumes, extend, listing — no thin pools, snapshots
// or copies. docs/lvm-driver.md describes configuration, naming, capacity and measurements.
package main

import (
	"os"
	"runtime"

	"github.com/kilnstorage/kiln/sdk"
)

// Plugin is the LVM driver as the SDK serves it.
var Plugin = sdk.Plugin[Config, *Driver]{Name: "lvm", Version: "0.1.0", New: New}

func main() {
	// One P is enough: the driver's concurrency is lvm2 processes and blocking system calls,
	// which give up their P, and its own Go work per call is short. With one P the goroutines of a call
	// (gRPC reader, handler and writer, the command's pipes) run one after another on one
	// thread instead of each hand-off waking an idle thread on another CPU, which measured
	// ≈ 0.2 ms per call on a 2-CPU VM (docs/lvm-driver.md, "Measurements"). GOMAXPROCS in the
	// driver's environment (LaunchConfig.Env) still decides.
	if _, set := os.LookupEnv("GOMAXPROCS"); !set {
		runtime.GOMAXPROCS(1)
	}
	sdk.Serve(Plugin)
}
