package sdk

import "context"

// endpoint is one driver as a Client reaches it: the server core in process (Direct), or a gRPC
// stub in front of one (Pair, Launch). Both speak Go types.
type endpoint interface {
	info(ctx context.Context) (Info, error)
	configure(ctx context.Context, req ConfigureRequest) (ConfigureResponse, error)
	probe(ctx context.Context) error
	capacity(ctx context.Context) (Capacity, error)
	createVolume(ctx context.Context, req CreateVolumeRequest, src source) (Volume, error)
	deleteVolume(ctx context.Context, vol VolumeRef) error
	getVolume(ctx context.Context, vol VolumeRef) (Volume, error)
	listVolumes(ctx context.Context, req ListRequest) (ListPage, error)
	extendVolume(ctx context.Context, vol VolumeRef, size int64) (Volume, error)
	createSnapshot(ctx context.Context, req CreateSnapshotRequest) (Snapshot, error)
	deleteSnapshot(ctx context.Context, snap SnapshotRef) error
	connect(ctx context.Context, vol VolumeRef, to Initiator) (Connection, error)
	disconnect(ctx context.Context, vol VolumeRef, from Initiator) error
	shutdown(ctx context.Context) (abandoned int, err error)
}

// source is what a new volume is copied from: nothing, a snapshot, or a volume.
type source struct {
	snapshot *SnapshotRef
	volume   *VolumeRef
}

// ConfigureRequest configures a driver for one backend.
type ConfigureRequest struct {
	// Backend is the operator's name for the backend.
	Backend string
	// Config is the driver's configuration as a JSON object.
	Config []byte
	// LogLevel changes the driver's log level when set (trace, debug, info, warn, error, off).
	LogLevel string
	// HostVersion is the host's version.
	HostVersion string
}

// ConfigureResponse is the driver's answer to a configuration.
type ConfigureResponse struct {
	Warnings []string
	// Echo is the effective configuration as JSON, defaults applied and secrets redacted.
	Echo []byte
}
