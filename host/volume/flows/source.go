package flows

import (
	"context"
	"errors"
	"fmt"

	"github.com/kilnstorage/kiln/host/scheduler"
	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/volume"
	"github.com/kilnstorage/kiln/sdk"
)

// Volumes made from a snapshot (Request.SnapshotID) or cloned from a volume
// (Request.SourceVolumeID) go through the same three create flows as empty ones, as Cinder
// does since Queens:
//
//   - ExtractVolumeRequestTask checks the source (a snapshot `available`, a volume `available`
//     or `in-use`, in the caller's project) and takes from it what the request leaves out:
//     the size (and refuses a smaller one), the volume type and the availability zone (which
//     must be the source's: Cinder's cloned_volume_same_az).
//   - EntryCreateTask inserts the row with the source: store.CreateVolume checks the source
//     again under its row lock and the `creating` row then keeps the source from being deleted
//     until the create ends (the source lock, store/sources.go). The source's status is never
//     changed, so there is nothing to restore when the create fails (Cinder's
//     restore_source_status writes back a status it read earlier).
//   - ExtractSchedulerSpecTask restricts the choice to the source's backend, and to its pool
//     unless that pool declares clone_across_pools, and requires the feature
//     (create_from_snapshot or clone); the scheduler's filters and the claim check capacity
//     as for any volume, so a full source pool fails the create (`error`), as in Cinder.
//   - CreateVolumeFromSpecTask calls the driver's CreateVolumeFromSnapshot or CloneVolume.

// source is what a new volume takes from its snapshot or source volume.
type source struct {
	SizeBytes     int64
	TypeID, Zone  string
	Backend, Pool string
	kind, id      string
}

// resolveSource reads the request's source, in the caller's project, and checks its status;
// nil when the request has none.
func (s *Service) resolveSource(ctx context.Context, r Request) (*source, error) {
	sc := store.ProjectScope(r.ProjectID)
	switch {
	case r.SnapshotID != "":
		snap, err := s.store.Snapshot(ctx, sc, r.SnapshotID)
		if err != nil {
			return nil, notFound(err, "snapshot", r.SnapshotID)
		}
		if err := volume.RestoreSource.Check(snap.ID, snap.Status); err != nil {
			return nil, err
		}
		parent, err := s.store.Volume(ctx, store.AllProjects(), snap.VolumeID)
		if err != nil {
			return nil, fmt.Errorf("volume of snapshot %s: %w", snap.ID, err)
		}
		return &source{SizeBytes: snap.SizeBytes, TypeID: snap.VolumeTypeID, Zone: parent.AvailabilityZone,
			Backend: snap.Backend, Pool: snap.Pool, kind: "snapshot", id: snap.ID}, nil
	case r.SourceVolumeID != "":
		v, err := s.store.Volume(ctx, sc, r.SourceVolumeID)
		if err != nil {
			return nil, notFound(err, "volume", r.SourceVolumeID)
		}
		if err := volume.CloneSource.Check(v.ID, v.Status); err != nil {
			return nil, err
		}
		return &source{SizeBytes: v.SizeBytes, TypeID: v.VolumeTypeID, Zone: v.AvailabilityZone,
			Backend: v.Backend, Pool: v.Pool, kind: "volume", id: v.ID}, nil
	}
	return nil, nil
}

// NotFoundError is a request's reference to a row that does not exist or that the caller cannot
// see; errors.Is(err, store.ErrNotFound) holds.
type NotFoundError struct{ Kind, ID string }

func (e *NotFoundError) Error() string { return fmt.Sprintf("%s %s could not be found", e.Kind, e.ID) }

// Is makes errors.Is(err, store.ErrNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == store.ErrNotFound }

func notFound(err error, kind, id string) error {
	if errors.Is(err, store.ErrNotFound) {
		return &NotFoundError{Kind: kind, ID: id}
	}
	return err
}

// sourceSize is the size of a volume made from src: the request's, at least the source's.
func sourceSize(src *source, sizeGiB int64) (int64, error) {
	if src == nil {
		return sizeGiB, nil
	}
	least := (src.SizeBytes + store.GiB - 1) / store.GiB
	if sizeGiB == 0 {
		return least, nil
	}
	if sizeGiB < least {
		return 0, fmt.Errorf("%w: size %d GiB is below the %d GiB of source %s %s", ErrInvalidRequest,
			sizeGiB, least, src.kind, src.id)
	}
	return sizeGiB, nil
}

// restrictToSource narrows the scheduling of a volume made from a snapshot or a volume to
// where its source lives and requires the feature the driver call needs.
func (s *Service) restrictToSource(ctx context.Context, v store.Volume, req *scheduler.Request) error {
	var backend, pool string
	switch {
	case v.SnapshotID != "":
		snap, err := s.store.Snapshot(ctx, store.AllProjects(), v.SnapshotID)
		if err != nil {
			return fmt.Errorf("source snapshot of volume %s: %w", v.ID, err)
		}
		backend, pool, req.Requires = snap.Backend, snap.Pool, req.Requires|scheduler.FeatureCreateFromSnapshot
	case v.SourceVolumeID != "":
		src, err := s.store.Volume(ctx, store.AllProjects(), v.SourceVolumeID)
		if err != nil {
			return fmt.Errorf("source volume of volume %s: %w", v.ID, err)
		}
		backend, pool, req.Requires = src.Backend, src.Pool, req.Requires|scheduler.FeatureClone
	default:
		return nil
	}
	req.Only = scheduler.PoolRef{Backend: backend, Pool: pool}
	if f := s.poolFeatures(ctx, backend, pool); f != nil && f.CloneAcrossPools {
		req.Only.Pool = ""
	}
	return nil
}

// poolFeatures returns the feature set of the pool's last report; nil when the store knows no
// such pool or the report has none.
func (s *Service) poolFeatures(ctx context.Context, backend, pool string) *sdk.FeatureSet {
	pools, err := s.store.Pools(ctx)
	if err != nil {
		return nil
	}
	for _, p := range pools {
		if p.Backend == backend && p.Report.Name == pool {
			return p.Report.Features
		}
	}
	return nil
}

// sourceRefs completes the manager's state with the driver's references to the source.
func (s *Service) sourceRefs(ctx context.Context, v store.Volume, st *managerState) error {
	switch {
	case v.SnapshotID != "":
		snap, err := s.store.Snapshot(ctx, store.AllProjects(), v.SnapshotID)
		if err != nil {
			return fmt.Errorf("source snapshot of volume %s: %w", v.ID, err)
		}
		st.FromSnapshot = &sdk.SnapshotRef{ID: snap.ID, SourceVolumeID: snap.VolumeID, Pool: snap.Pool,
			ProviderData: snap.ProviderData}
	case v.SourceVolumeID != "":
		src, err := s.store.Volume(ctx, store.AllProjects(), v.SourceVolumeID)
		if err != nil {
			return fmt.Errorf("source volume of volume %s: %w", v.ID, err)
		}
		st.FromVolume = &sdk.VolumeRef{ID: src.ID, Pool: src.Pool, ProviderData: src.ProviderData}
	}
	return nil
}

// createOnDriver has the driver create the volume: empty, from the snapshot or as a clone.
func createOnDriver(ctx context.Context, c *sdk.Client, st *managerState) (sdk.Volume, error) {
	switch {
	case st.FromSnapshot != nil:
		return c.CreateVolumeFromSnapshot(ctx, st.Spec, *st.FromSnapshot)
	case st.FromVolume != nil:
		return c.CloneVolume(ctx, st.Spec, *st.FromVolume)
	}
	return c.CreateVolume(ctx, st.Spec)
}
