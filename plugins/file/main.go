// Command kiln-driver-file is the Kiln driver that keeps volumes as files: each pool is a
// directory, each volume a sparse (thin) or fallocated (thick) file named by its Kiln ID, and
// snapshots, clones and restores are reflinks or sparse-aware copies. docs/file-driver.md
// describes its configuration and its layout on disk.
package main

import "github.com/kilnstorage/kiln/sdk"

// plugin is the file driver as the SDK serves it.
var plugin = sdk.Plugin[Config, *Driver]{Name: "file", Version: "0.1.0", New: New}

func main() { sdk.Serve(plugin) }
