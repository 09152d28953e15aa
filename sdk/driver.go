package sdk

import "context"

// Driver is the contract every storage driver implements. The host assigns every volume ID;
// CreateVolume and DeleteVolume are idempotent by that ID.
type Driver interface {
	// Capacity reports every pool this backend can place volumes in. The host polls it and calls
	// it after each mutating call.
	Capacity(ctx context.Context) (Capacity, error)
	// CreateVolume creates an empty volume in req.Pool. A second call with the same ID and the
	// same arguments returns the existing volume; with different arguments it returns an
	// AlreadyExists error.
	CreateVolume(ctx context.Context, req CreateVolumeRequest) (Volume, error)
	// DeleteVolume deletes the volume without leaking its data to later volumes. Deleting a
	// volume that does not exist succeeds.
	DeleteVolume(ctx context.Context, vol VolumeRef) error
}

// Snapshotter is implemented by drivers that take point-in-time snapshots.
type Snapshotter interface {
	// CreateSnapshot is idempotent by req.ID: same source volume, same result; another source
	// volume is AlreadyExists.
	CreateSnapshot(ctx context.Context, req CreateSnapshotRequest) (Snapshot, error)
	// DeleteSnapshot deletes a snapshot; a missing one is success.
	DeleteSnapshot(ctx context.Context, snap SnapshotRef) error
}

// SnapshotRestorer is implemented by drivers that create a volume from a snapshot.
type SnapshotRestorer interface {
	// CreateVolumeFromSnapshot follows CreateVolume's idempotency; the source is part of the
	// comparison. A missing snapshot is NotFound.
	CreateVolumeFromSnapshot(ctx context.Context, req CreateVolumeRequest, src SnapshotRef) (Volume, error)
}

// Cloner is implemented by drivers that copy a volume into a new one.
type Cloner interface {
	// CloneVolume follows CreateVolume's idempotency; the source is part of the comparison. A
	// missing source volume is NotFound.
	CloneVolume(ctx context.Context, req CreateVolumeRequest, src VolumeRef) (Volume, error)
}

// Extender is implemented by drivers that grow volumes. Whether a volume may be extended while
// attached is the pool feature ExtendOnline.
type Extender interface {
	// ExtendVolume grows the volume to at least newSizeBytes (already rounded by the SDK). A size
	// at or below the current one succeeds and returns the current size; volumes never shrink.
	ExtendVolume(ctx context.Context, vol VolumeRef, newSizeBytes int64) (Volume, error)
}

// Inspector is implemented by drivers that can report one volume from the backend's state.
type Inspector interface {
	// GetVolume returns the volume or a NotFound error.
	GetVolume(ctx context.Context, vol VolumeRef) (Volume, error)
}

// Lister is implemented by drivers that can enumerate the volumes they manage, which lets the
// host find backend objects without a database row.
type Lister interface {
	ListVolumes(ctx context.Context, req ListRequest) (ListPage, error)
}

// Connector is implemented by drivers that export volumes to hosts.
type Connector interface {
	Connect(ctx context.Context, vol VolumeRef, to Initiator) (Connection, error)
	// Disconnect removes the export; a missing export is success.
	Disconnect(ctx context.Context, vol VolumeRef, from Initiator) error
}

// Prober is implemented by drivers with a readiness check cheaper than Capacity. Without it,
// the SDK probes by calling Capacity.
type Prober interface {
	Probe(ctx context.Context) error
}

// Closer is implemented by drivers that hold resources. Close is called once, on Shutdown, after
// in-flight calls have drained; ctx carries the host's deadline.
type Closer interface {
	Close(ctx context.Context) error
}

// Capabilities says which optional interfaces a driver implements. The SDK computes it; a driver
// never declares it.
type Capabilities struct {
	Snapshots          bool `json:"snapshots"`
	CreateFromSnapshot bool `json:"create_from_snapshot"`
	Clone              bool `json:"clone"`
	Extend             bool `json:"extend"`
	Inspect            bool `json:"inspect"`
	List               bool `json:"list"`
	Connect            bool `json:"connect"`
	Probe              bool `json:"probe"`
	Close              bool `json:"close"`
}

// CapabilitiesOf derives the capabilities of d from the interfaces it implements.
func CapabilitiesOf(d Driver) Capabilities {
	_, snap := d.(Snapshotter)
	_, restore := d.(SnapshotRestorer)
	_, clone := d.(Cloner)
	_, extend := d.(Extender)
	_, inspect := d.(Inspector)
	_, list := d.(Lister)
	_, connect := d.(Connector)
	_, probe := d.(Prober)
	_, closer := d.(Closer)
	return Capabilities{
		Snapshots: snap, CreateFromSnapshot: restore, Clone: clone, Extend: extend,
		Inspect: inspect, List: list, Connect: connect, Probe: probe, Close: closer,
	}
}
