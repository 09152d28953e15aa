// Package backend supervises one storage backend: it launches the backend's driver process with
// sdk.Launch, configures it, polls its capacity (jittered, and at once after a mutating call),
// hands every report to a Sink (the store), heartbeats, and when the process exits marks the
// backend down and starts it again with capped exponential backoff.
package backend
