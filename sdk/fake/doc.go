// Package fake is an in-memory Kiln storage driver for tests, demos and the conformance kit's
// self-tests.
//
// Volumes and snapshots exist only as records, but the records are kept on disk in the
// configured state directory and read back by New, so the driver survives a restart of its
// process the way a real backend does: everything the host may ask again comes from that state,
// never from process memory. Each change is one JSON line appended to <backend>.log and synced
// before its call returns; once the log outgrows the state, the whole state is written
// atomically to <backend>.json and the log emptied. New reads the snapshot and replays the log.
//
// The driver implements every optional interface of package sdk. Its pools, their capacity and
// features are configured (Config); thick volumes take their size from the pool's free bytes,
// thin volumes and snapshots take none. Knobs make it misbehave on purpose: a latency per
// operation, injected failures (Failure) and seeded bugs (Bugs) that the conformance suite in
// package drivertest must catch.
//
// The kiln-driver-fake binary (plugins/fake) serves Plugin.
package fake
