// Package metrics is Kiln's Prometheus instrumentation: every family in the kiln namespace,
// registered on a Registerer the caller injects (never the global one), with bounded labels
// only — flow, task, outcome, action, filter, backend, pool, method, code, status, route —
// never a volume or project ID.
//
// *Metrics implements the flow engine's Observer with plain arguments, offers a gRPC client
// interceptor for driver calls and an HTTP middleware for the API, and has setters for what the
// host learns elsewhere (pool capacity, backend health, volumes by status). It imports nothing
// of Kiln's.
package metrics
