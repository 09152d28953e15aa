// Command kiln-driver-lvm is the LVM storage driver as a Kiln driver binary: volumes are logical
// volumes made with the lvm2 commands, in volume groups (thick pools) and thin pools named in the
// backend's configuration. Every lvm2 command runs through one wrapper (command.go) with the
// driver's own lvm.conf (lvmconf.go), and every failure is classified in one function
// (classify.go). On a host without device-mapper the driver runs with activation disabled and
// reports only what it can then do: thick volumes, extend, listing — no thin pools, snapshots
// or copies. docs/lvm-driver.md describes configuration, naming, capacity and measurements.
package main

import "github.com/kilnstorage/kiln/sdk"

// Plugin is the LVM driver as the SDK serves it.
var Plugin = sdk.Plugin[Config, *Driver]{Name: "lvm", Version: "0.1.0", New: New}

func main() { sdk.Serve(Plugin) }
