// Package drivertest is the conformance suite every Kiln driver passes. A driver author calls
// Run from an ordinary test:
//
//	func TestConformance(t *testing.T) {
//		drivertest.Run(t, drivertest.Config{
//			Plugin:       mydriver.Plugin,
//			DriverConfig: map[string]any{"dir": t.TempDir()},
//		})
//	}
//
// Run the kit on a pool of its own, or one capped by the driver's configuration: the accounting
// clauses compare free bytes before and after, and A4 asks for more than the free space, which a
// pool on a busy shared filesystem may suddenly have.
//
// Every clause of the contract is a subtest named by its clause ID, so
// `go test -run 'TestConformance/I1'` runs one group. A clause that does not apply (a capability
// the pool does not advertise, a transport without processes) is skipped with its reason, so
// skips stay visible in `go test -v`.
//
// Clauses:
//
//	C  Info and Configure: C1 schema well formed, C2 unknown key rejected with its path,
//	   C3 secrets redacted in the echo.
//	P  Capacity report: P1 pools well formed, P2 Seq increases within one BootID.
//	I  Idempotency by ID: I1 same arguments return the same volume and one backend object,
//	   another size or provisioning is AlreadyExists; I2 deleting a missing volume, twice, and
//	   re-creating after delete succeed; I9 created volumes are listed by ID.
//	S  Sizes: S1 rounding to the granularity, S2 below the minimum and S3 above the maximum
//	   are OutOfRange, S4 a zero size and S5 an unknown pool are InvalidArgument.
//	F  Features, when advertised: F1 extend (never shrinks), F2 snapshots by ID, F3 volume
//	   from snapshot, F4 clone, F5 deleting a volume that has snapshots.
//	A  Capacity accounting: A1 a thick create lowers free bytes, A2 delete gives them back,
//	   A3 a thin create raises provisioned bytes, A4 filling the pool is NoSpace with
//	   need_bytes and free_bytes.
//	E  Error codes: E1 a missing volume, E2 a missing snapshot source, E3 a missing clone
//	   source, E4 extending a missing volume and E5 snapshotting one are NotFound, with a
//	   reason.
//	K  Concurrency: K1 parallel creates of one ID make one object, K2 parallel creates of
//	   distinct IDs all succeed.
//	Z  Cancellation: Z1 a create whose context ends mid-call returns promptly and the next
//	   idempotent call repairs it.
//	R  Restart survival: R1 after the driver is killed and started again, its volumes are
//	   still there with the same ProviderData.
//	H  Process hygiene (Binary transport): H1 describe works without a host, H2 the binary
//	   refuses to run without the host's cookie, H3 the handshake is the first stdout line,
//	   H4 stderr is hclog JSON, H5 nothing reached stdout during the run, H6 the driver exits
//	   when its parent dies.
//	L  The end: L2 Shutdown drains and closes the driver, after which calls are refused;
//	   L1 nothing the kit created is left.
package drivertest
