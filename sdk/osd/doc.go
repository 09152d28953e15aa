// Package osd runs an openstorage v1.0.0 volume.VolumeDriver as a Kiln driver.
//
// An author who already has an openstorage driver serves it with
//
//	type Config struct {
//		Dir    string `kiln:"dir,required" doc:"Directory the volumes live in."`
//		Extend bool   `kiln:"extend" doc:"Allow growing volumes with Set."`
//	}
//
//	func build(ctx context.Context, cfg Config, env sdk.Env) (volume.VolumeDriver, osd.Options, error) {
//		vd, err := mydriver.Init(map[string]string{"path": cfg.Dir})
//		return vd, osd.Options{Pool: env.Backend, Extend: cfg.Extend}, err
//	}
//
//	func main() {
//		sdk.Serve(osd.Plugin("mydriver", "1.0.0", build))
//	}
//
// build runs each time the host configures the backend; the SDK decodes and validates Config
// first. Driver wraps a VolumeDriver directly, for tests and for the conformance kit.
//
// The openstorage contract differs from Kiln's, and the Adapter bridges it:
//
//   - Idempotency. openstorage's Create returns an ID the backend generates, so the Kiln ID
//     becomes the VolumeLocator name, with the label kiln/volume-id. Every create first
//     enumerates by that name, keeps exact matches only (Enumerate may treat names as
//     regular expressions), and compares size, source, pool, provisioning and parameters with
//     the request. The openstorage ID is returned in ProviderData["osd_id"]; without it,
//     lookups fall back to enumerating by name.
//   - Copies. A snapshot is vd.Snapshot(parent, readonly=true, name). A clone, and a volume
//     restored from a snapshot, is vd.Snapshot(parent, readonly=false, name), which is how
//     openstorage's own servers create a volume with a parent: the in-tree drivers' Create only
//     records Source.Parent and copies no data.
//   - Capabilities. Whether the wrapped driver takes snapshots is probed once (see Options); Extend
//     is opt-in because Set's semantics vary by driver. The methods of a capability that is off
//     return an Unsupported error, and every pool's Features lists only what is really on, so
//     the host never routes those calls here.
//   - Parameters. The volume-type extra specs osd:cos (none, low, medium, high) and
//     osd:io_profile (sequential, random, db, db_remote) set the new volume's spec; any other
//     key is an InvalidArgument error. Copies inherit their source's spec.
//   - Errors. openstorage's sentinels map to Kiln codes in one place; anything else is Internal.
//   - Cancellation. openstorage takes no context. Each call runs on its own goroutine and returns
//     when its context ends, but the adapter keeps the call's IDs locked until the driver
//     really returns, so a retry never overlaps it.
//
// FromStats and ToLocator convert between the two vocabularies.
package osd
