// Package scheduler chooses the pool a volume goes to: OpenStack Cinder's filter scheduler
// (reference/cinder.md §2) as a pure function over pool snapshots, with Cinder's defects
// fixed (§8–§9). It imports only the standard library and does no I/O.
//
// The host builds one Pool per pool from three sources: the newest capability report of its
// backend (ordered by the driver's sequence number, never by wall clocks), the claim ledger
// (bytes and volumes placed there), and the operator's configuration (availability zone,
// reserved_percentage, max_over_subscription_ratio). Pick then runs, in order:
//
//   - Health: down pools and pools whose report is older than Config.MaxAge are removed;
//   - SourceBackend: with Request.Only, the pools of the source's backend (or pool) are kept;
//   - the configured filters, by Cinder's names: AvailabilityZoneFilter, CapacityFilter,
//     CapabilitiesFilter, IgnoreAttemptedHostsFilter (these four by default),
//     DifferentBackendFilter, SameBackendFilter, JsonFilter, DriverFilter;
//
// then weighs what passes with the configured weighers (CapacityWeigher by default;
// AllocatedCapacityWeigher, VolumeNumberWeigher, GoodnessWeigher, ChanceWeigher), each
// normalized by min-max and multiplied, and ranks the pools, best first, optionally picking
// at random among the k best. When no pool passes, the error explains, filter by filter,
// how many pools each removed and why, in a bounded message fit for the volume's fault.
//
// Capacity arithmetic is one method, Pool.Capacity, shared by CapacityFilter,
// CapacityWeigher and the pools view. Extra specs follow Cinder's operator grammar
// (=, ==, !=, >=, <=, <, >, s==, s!=, s<, s<=, s>, s>=, <in>, <is>, <or>) over typed
// capabilities with units; filter and goodness functions follow Cinder's expression grammar.
// docs/scheduler.md lists every deviation from Cinder and its reason.
package scheduler
