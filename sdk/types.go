package sdk

// CreateVolumeRequest asks for a new volume. Sizes are bytes.
type CreateVolumeRequest struct {
	// ID is the host-assigned volume ID and the idempotency key; use it as, or in, the backend
	// object's name.
	ID string
	// Name is the user's display name; informational only.
	Name string
	// SizeBytes is the size, already rounded up by the SDK to the pool's granularity.
	SizeBytes int64
	// Pool is the pool chosen by the scheduler; always one reported by Capacity.
	Pool string
	// Thin is the requested provisioning; nil means the pool's default.
	Thin *bool
	// Params are the volume type's extra specs scoped to this driver.
	Params map[string]string
	// Labels are tags (project, volume type) to stamp on the backend object where supported.
	Labels map[string]string
}

// VolumeRef names an existing volume. ProviderData is what the driver returned when the volume
// was created or last changed; the host persists it.
type VolumeRef struct {
	ID           string
	Pool         string
	ProviderData map[string]string
}

// Volume is a volume as the backend holds it.
type Volume struct {
	ID   string
	Pool string
	// SizeBytes is the provisioned size, at least the size requested.
	SizeBytes int64
	// AllocatedBytes is the physical usage when known (thin volumes), else 0.
	AllocatedBytes int64
	Thin           bool
	// SourceSnapshotID and SourceVolumeID record what the volume was created from, if anything.
	SourceSnapshotID string
	SourceVolumeID   string
	// ProviderData is opaque to the host, which persists it and returns it in every later
	// VolumeRef. It must be derived from backend state, never from process memory.
	ProviderData map[string]string
}

// Ref returns the reference the host would pass back for v.
func (v Volume) Ref() VolumeRef {
	return VolumeRef{ID: v.ID, Pool: v.Pool, ProviderData: v.ProviderData}
}

// CreateSnapshotRequest asks for a snapshot of Volume.
type CreateSnapshotRequest struct {
	// ID is the host-assigned snapshot ID and the idempotency key.
	ID     string
	Name   string
	Volume VolumeRef
	Params map[string]string
}

// SnapshotRef names an existing snapshot.
type SnapshotRef struct {
	ID             string
	SourceVolumeID string
	Pool           string
	ProviderData   map[string]string
}

// Snapshot is a snapshot as the backend holds it.
type Snapshot struct {
	ID             string
	SourceVolumeID string
	Pool           string
	SizeBytes      int64
	// Ready is false while the backend still post-processes the snapshot; the host repeats
	// CreateSnapshot until it is true.
	Ready        bool
	ProviderData map[string]string
}

// Ref returns the reference the host would pass back for s.
func (s Snapshot) Ref() SnapshotRef {
	return SnapshotRef{ID: s.ID, SourceVolumeID: s.SourceVolumeID, Pool: s.Pool, ProviderData: s.ProviderData}
}

// ListRequest asks for one page of volumes. An empty Pool lists every pool.
type ListRequest struct {
	Pool      string
	PageToken string
	// Limit is the largest page the host wants; 0 lets the driver choose.
	Limit int
}

// ListPage is one page of volumes; an empty NextPageToken ends the listing.
type ListPage struct {
	Volumes       []Volume
	NextPageToken string
}

// Initiator is the host a volume is exported to.
type Initiator struct {
	Host string
	// Data carries protocol identities such as "iqn" or "nqn".
	Data map[string]string
}

// Connection tells an initiator how to reach a volume (Cinder's connection_info).
type Connection struct {
	// Protocol is "iscsi", "nvmeof", "local" or "file".
	Protocol string
	Data     map[string]string
}
