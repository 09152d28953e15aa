package fake

import (
	"context"
	"fmt"
	"maps"

	"github.com/kilnstorage/kiln/sdk"
)

// source is what a volume is created from: nothing, a snapshot or another volume.
type source struct {
	op       string // the operation's name, for latency and failures
	snapshot string
	volume   string
}

// CreateVolume creates an empty volume; it is idempotent by req.ID.
func (d *Driver) CreateVolume(ctx context.Context, req sdk.CreateVolumeRequest) (sdk.Volume, error) {
	return d.create(ctx, req, source{op: OpCreateVolume})
}

// CreateVolumeFromSnapshot creates a volume from snapshot src, at least as large as it.
func (d *Driver) CreateVolumeFromSnapshot(ctx context.Context, req sdk.CreateVolumeRequest, src sdk.SnapshotRef) (sdk.Volume, error) {
	return d.create(ctx, req, source{op: OpCreateVolumeFromSnapshot, snapshot: src.ID})
}

// CloneVolume creates a copy of volume src, at least as large as it.
func (d *Driver) CloneVolume(ctx context.Context, req sdk.CreateVolumeRequest, src sdk.VolumeRef) (sdk.Volume, error) {
	return d.create(ctx, req, source{op: OpCloneVolume, volume: src.ID})
}

func (d *Driver) create(ctx context.Context, req sdk.CreateVolumeRequest, src source) (sdk.Volume, error) {
	if err := d.faults.before(ctx, src.op); err != nil {
		return sdk.Volume{}, err
	}
	if d.faults.has(BugPrintsToStdout) {
		fmt.Println("fake: creating volume", req.ID)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	v, err := d.request(req, src)
	if err != nil {
		return sdk.Volume{}, err
	}
	if old, ok := d.st.volume(req.ID); ok && !d.faults.has(BugNonIdempotentCreate) {
		return same(old, v)
	}
	if err := d.checkSource(v); err != nil {
		return sdk.Volume{}, err
	}
	if err := d.reserve(v.Pool, v.Thin, v.SizeBytes); err != nil {
		return sdk.Volume{}, err
	}
	v, c := d.st.addVolume(v)
	if err := d.apply(c); err != nil {
		return sdk.Volume{}, err
	}
	return v.view(), nil
}

// request checks req against its pool and returns the volume it asks for.
func (d *Driver) request(req sdk.CreateVolumeRequest, src source) (volume, error) {
	if req.ID == "" {
		return volume{}, sdk.ErrorInvalid("id", "required")
	}
	p, ok := d.pool(req.Pool)
	if !ok {
		e := sdk.ErrorInvalid("pool", fmt.Sprintf("unknown pool %q", req.Pool))
		e.Pool = req.Pool
		return volume{}, e
	}
	thin, err := provisioning(p, req.Thin)
	if err != nil {
		return volume{}, err
	}
	return volume{ID: req.ID, Name: req.Name, Pool: req.Pool, SizeBytes: req.SizeBytes,
		RequestedBytes: req.SizeBytes, Thin: thin, SourceSnapshotID: src.snapshot,
		SourceVolumeID: src.volume, Params: req.Params, Labels: req.Labels}, nil
}

// provisioning resolves a requested provisioning in pool p; nil is thin when p offers it.
// The SDK rejects what p does not offer before the driver sees it; this is the backend's own
// check.
func provisioning(p sdk.Pool, thin *bool) (bool, error) {
	want := p.Thin
	if thin != nil {
		want = *thin
	}
	switch {
	case want && !p.Thin:
		return false, sdk.ErrorInvalid("thin", "pool "+p.Name+" offers no thin provisioning")
	case !want && !p.Thick:
		return false, sdk.ErrorInvalid("thin", "pool "+p.Name+" offers no thick provisioning")
	}
	return want, nil
}

// same returns old when want asks for it again, else an AlreadyExists error naming what
// differs. The size compared is the one old was created with, so a create repeated after an
// extend still matches.
func same(old, want volume) (sdk.Volume, error) {
	var why string
	switch {
	case old.Pool != want.Pool:
		why = "pool"
	case old.RequestedBytes != want.RequestedBytes:
		why = "size"
	case old.Thin != want.Thin:
		why = "provisioning"
	case old.SourceSnapshotID != want.SourceSnapshotID, old.SourceVolumeID != want.SourceVolumeID:
		why = "source"
	case !maps.Equal(old.Params, want.Params):
		why = "params"
	default:
		return old.view(), nil
	}
	return sdk.Volume{}, sdk.ErrorAlreadyExists("volume", old.ID, why)
}

// checkSource checks that v's source exists, may be copied into v's pool, and fits in v.
func (d *Driver) checkSource(v volume) error {
	pool, size, err := d.source(v)
	switch {
	case err != nil:
		return err
	case pool != "" && pool != v.Pool && !d.features(pool).CloneAcrossPools: // the source pool's say
		e := sdk.ErrorUnsupported(fmt.Sprintf("copying a volume from pool %s into pool %s", pool, v.Pool))
		e.Pool = v.Pool
		return e
	case v.SizeBytes < size:
		return sdk.ErrorOutOfRange(v.Pool, v.SizeBytes, fmt.Sprintf("is smaller than its source's %d bytes", size))
	}
	return nil
}

// source returns the pool and size of v's source; both are zero when v has none.
func (d *Driver) source(v volume) (pool string, size int64, err error) {
	switch {
	case v.SourceSnapshotID != "":
		s, ok := d.st.Snapshots[v.SourceSnapshotID]
		if !ok {
			return "", 0, d.missing("snapshot", v.SourceSnapshotID)
		}
		return s.Pool, s.SizeBytes, nil
	case v.SourceVolumeID != "":
		src, ok := d.st.volume(v.SourceVolumeID)
		if !ok {
			return "", 0, d.missing("volume", v.SourceVolumeID)
		}
		return src.Pool, src.SizeBytes, nil
	}
	return "", 0, nil
}

// missing reports a missing source object: NotFound, or Internal with
// BugWrongCodeOnMissingSource.
func (d *Driver) missing(kind, id string) error {
	if d.faults.has(BugWrongCodeOnMissingSource) {
		return sdk.ErrorInternal(fmt.Errorf("%s %s: no such object", kind, id))
	}
	return sdk.ErrorNotFound(kind, id)
}
