// Package sdk is Kiln's driver contract: what a storage-driver author imports.
//
// A driver is a Go type with three required, context-first methods (Capacity, CreateVolume,
// DeleteVolume) and any number of small optional interfaces (Snapshotter, Cloner, Extender, …).
// Its main function calls Serve once:
//
//	func main() {
//		sdk.Serve(sdk.Plugin[Config]{Name: "mydriver", Version: "0.1.0", New: New})
//	}
//
// The SDK derives the features the driver advertises from the interfaces it implements, runs it
// as a hashicorp/go-plugin gRPC plugin, serializes mutating calls per volume and snapshot ID,
// validates and rounds sizes to the pool's granularity, recovers panics into Internal errors,
// decodes the driver's configuration strictly into its config struct, and carries typed errors
// (Error, Code) across the process boundary so that errors.Is and errors.As work on the host.
//
// The host side is Launch, which starts a driver binary and returns a Client. The conformance
// suite every driver must pass is in package drivertest.
package sdk
