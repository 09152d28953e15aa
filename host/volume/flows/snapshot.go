package flows

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kilnstorage/kiln/host/flow"
	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/volume"
	"github.com/kilnstorage/kiln/sdk"
)

// The snapshot_create flow takes a snapshot of a volume: Cinder's API checks and quota, then its
// volume manager's create_snapshot, as one journaled flow.
//
//	ExtractSnapshotRequestTask → QuotaReserveTask → EntryCreateTask →
//	CreateSnapshotOnBackendTask → CreateSnapshotOnFinishTask
//
// EntryCreateTask inserts the snapshot in `creating`, committing the usage with the row
// and checking the volume's status (available, or in-use when forced) in the same transaction
// (Cinder checks it twice, without a compare-and-swap). The request returns then, with the
// snapshot in `creating`, and the flow goes on in the background: the driver takes the
// snapshot and the snapshot becomes `available`; when the driver fails, the snapshot becomes
// `error` (keeping its quota until it is deleted, as in Cinder) and what the driver may have
// made is deleted. Every task may run again after a crash, so recovery finishes the flow; one
// journal entry spans the whole flow, so there is no window in which a `creating` snapshot is
// held by nothing.

// Events of the snapshot flows, recorded under the snapshot's volume.
const (
	EventSnapshotCreateStart = "snapshot.create.start"
	EventSnapshotCreateEnd   = "snapshot.create.end"
	EventSnapshotDeleteStart = "snapshot.delete.start"
	EventSnapshotDeleteEnd   = "snapshot.delete.end"
)

// SnapshotRequest is a user's create-snapshot request, as the API decoded it.
type SnapshotRequest struct {
	ProjectID, UserID string
	VolumeID          string
	Name, Description string
	Metadata          map[string]string
	// Force allows a snapshot of an in-use volume.
	Force bool
}

// snapshotState is the snapshot_create flow's journaled state.
type snapshotState struct {
	FlowID  string
	Request SnapshotRequest
	// Set by ExtractSnapshotRequestTask.
	SnapshotID string
	TypeName   string
	SizeBytes  int64
	// Snapshot is the row EntryCreateTask inserted.
	Snapshot store.Snapshot
	// ProviderData is the driver's, once it took the snapshot.
	ProviderData map[string]string
	// entered is closed once the row exists (or the flow ended): the request waits for it.
	// It is not journaled; a recovered flow has none.
	entered chan struct{}
}

func (s *Service) snapshotFlow() *flow.Flow[snapshotState] {
	return &flow.Flow[snapshotState]{Name: "snapshot_create", Tasks: []flow.Task[snapshotState]{
		{Name: "ExtractSnapshotRequestTask", Execute: s.extractSnapshotRequest, Resume: true},
		{Name: "QuotaReserveTask", Execute: s.reserveSnapshotQuota, Revert: s.rollbackSnapshotQuota, Resume: true},
		{Name: "EntryCreateTask", Execute: s.createSnapshotEntry, Revert: s.discardSnapshotEntry, Resume: true},
		// The driver's create is idempotent by snapshot ID, so a crash resumes it.
		{Name: "CreateSnapshotOnBackendTask", Execute: s.createSnapshotOnBackend,
			Revert: s.snapshotCreateFailed, Resume: true, Outside: true},
		{Name: "CreateSnapshotOnFinishTask", Execute: s.createSnapshotOnFinish, Resume: true},
	}}
}

func (r SnapshotRequest) guard() volume.Transition {
	if r.Force {
		return volume.SnapshotSourceForce
	}
	return volume.SnapshotSource
}

// CreateSnapshot runs the snapshot_create flow: it returns the snapshot in `creating` once its
// row is inserted, or the error that stopped the flow before (a refused volume status, over
// quota, a missing volume); the driver's part goes on in the background.
func (s *Service) CreateSnapshot(ctx context.Context, req SnapshotRequest) (store.Snapshot, error) {
	entered, done := make(chan struct{}), make(chan error, 1)
	st := &snapshotState{FlowID: flow.NewID() + "-s", Request: req, entered: entered}
	if err := s.bg.Go(func() {
		err := s.snapshotF.Run(context.WithoutCancel(ctx), s.engine, st.FlowID, st)
		if err != nil {
			s.log.Warn("snapshot create failed", "volume_id", req.VolumeID, "snapshot_id", st.SnapshotID,
				"flow", st.FlowID, "error", err)
		}
		done <- err
	}); err != nil {
		return store.Snapshot{}, err
	}
	select {
	case <-entered:
		return st.Snapshot, nil
	case err := <-done:
		if st.Snapshot.ID != "" {
			return st.Snapshot, nil // the row exists; the failure shows in its status
		}
		var te *flow.TaskError
		if errors.As(err, &te) {
			return store.Snapshot{}, te.Err
		}
		return store.Snapshot{}, err
	}
}

// extractSnapshotRequest checks the request against the volume and its pool and resolves the
// snapshot's size and type: what Cinder's API checks before inserting the row.
func (s *Service) extractSnapshotRequest(ctx context.Context, st *snapshotState) error {
	r := st.Request
	v, err := s.store.Volume(ctx, store.ProjectScope(r.ProjectID), r.VolumeID)
	if err != nil {
		return err
	}
	if err := r.guard().Check(v.ID, v.Status); err != nil {
		return err
	}
	if v.Backend != "" && !s.poolHas(ctx, v.Backend, v.Pool, func(f sdk.FeatureSet) bool { return f.Snapshots }) {
		return fmt.Errorf("%w: pool %s#%s of volume %s does not support snapshots", ErrInvalidRequest,
			v.Backend, v.Pool, v.ID)
	}
	if st.TypeName, err = s.store.VolumeTypeName(ctx, v.VolumeTypeID); err != nil {
		return fmt.Errorf("volume type of volume %s: %w", v.ID, err)
	}
	if st.SnapshotID == "" {
		st.SnapshotID = store.NewID()
	}
	st.SizeBytes = v.SizeBytes
	return nil
}

// poolHas reports whether the pool's last report has the feature; a pool the store does not
// know, or that reports no feature set, is given the benefit of the doubt (the driver decides).
func (s *Service) poolHas(ctx context.Context, backend, pool string, has func(sdk.FeatureSet) bool) bool {
	pools, err := s.store.Pools(ctx)
	if err != nil {
		return true
	}
	for _, p := range pools {
		if p.Backend == backend && p.Report.Name == pool && p.Report.Features != nil {
			return has(*p.Report.Features)
		}
	}
	return true
}

// reserveSnapshotQuota refuses a snapshot over the project's quota without holding a
// reservation, as reserveQuota does for a volume: EntryCreateTask's insert follows at once and
// commits the usage under the same check.
func (s *Service) reserveSnapshotQuota(ctx context.Context, st *snapshotState) error {
	return s.store.CheckQuota(ctx, store.Reservation{FlowID: st.FlowID, ProjectID: st.Request.ProjectID,
		Deltas: s.store.SnapshotDeltas(st.TypeName, st.SizeBytes)})
}

func (s *Service) rollbackSnapshotQuota(ctx context.Context, st *snapshotState, _ error) error {
	return s.store.RollbackReservations(ctx, st.FlowID)
}

// createSnapshotEntry inserts the snapshot in `creating`, committing the reservation with it,
// and lets the request return. A row that exists already (a resumed flow) is taken as done.
func (s *Service) createSnapshotEntry(ctx context.Context, st *snapshotState) error {
	snap, err := s.store.Snapshot(ctx, store.AllProjects(), st.SnapshotID)
	if errors.Is(err, store.ErrNotFound) {
		r := st.Request
		snap, err = s.store.CreateSnapshot(ctx, store.ProjectScope(r.ProjectID), store.Snapshot{ID: st.SnapshotID,
			ProjectID: r.ProjectID, UserID: r.UserID, VolumeID: r.VolumeID, Name: r.Name,
			Description: r.Description, Metadata: r.Metadata}, r.guard(), st.FlowID)
	}
	if err != nil {
		return err
	}
	st.Snapshot = snap
	s.snapshotEvent(ctx, st.Snapshot, EventSnapshotCreateStart)
	if st.entered != nil {
		close(st.entered)
	}
	return nil
}

// discardSnapshotEntry soft-deletes a snapshot still `creating`, giving its usage back; one
// never inserted, or already in `error` (the driver's failure, recorded by the next task's
// revert), is left as it is.
func (s *Service) discardSnapshotEntry(ctx context.Context, st *snapshotState, _ error) error {
	_, err := s.store.TransitionSnapshot(ctx, store.AllProjects(), st.SnapshotID, volume.SnapshotDiscard, store.SnapshotChange{})
	var te *volume.TransitionError
	if errors.Is(err, store.ErrNotFound) || errors.As(err, &te) {
		return nil
	}
	return err
}

// createSnapshotOnBackend has the driver take the snapshot, repeating the call while the driver
// says it is not ready yet.
func (s *Service) createSnapshotOnBackend(ctx context.Context, st *snapshotState) error {
	snap := st.Snapshot
	v, err := s.store.Volume(ctx, store.AllProjects(), snap.VolumeID)
	if err != nil {
		return fmt.Errorf("read volume %s: %w", snap.VolumeID, err)
	}
	c, err := s.client(snap.Backend)
	if err != nil {
		return err
	}
	req := sdk.CreateSnapshotRequest{ID: snap.ID, Name: snap.Name,
		Volume: sdk.VolumeRef{ID: v.ID, Pool: v.Pool, ProviderData: v.ProviderData}}
	for wait := 50 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		got, err := c.CreateSnapshot(ctx, req)
		if err != nil {
			return fmt.Errorf("create snapshot %s of volume %s on %s#%s: %w", snap.ID, v.ID, snap.Backend, snap.Pool, err)
		}
		if got.Ready {
			st.ProviderData = got.ProviderData
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// snapshotCreateFailed puts the snapshot in `error` with why, then deletes what the driver may
// have made (idempotently). A snapshot no longer `creating` keeps its status.
func (s *Service) snapshotCreateFailed(ctx context.Context, st *snapshotState, failure error) error {
	msg := "the snapshot could not be finished"
	if failure != nil {
		msg = clip(failure.Error())
	}
	_, err := s.store.TransitionSnapshot(ctx, store.AllProjects(), st.SnapshotID, volume.SnapshotCreateFailed,
		store.SnapshotChange{Fault: &msg})
	var te *volume.TransitionError
	if err != nil && !errors.As(err, &te) && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	snap := st.Snapshot
	return s.deleteSnapshotOnBackend(ctx, snap.Backend, sdk.SnapshotRef{ID: snap.ID, SourceVolumeID: snap.VolumeID,
		Pool: snap.Pool, ProviderData: st.ProviderData})
}

// deleteSnapshotOnBackend has the driver delete the snapshot; a missing one is success.
func (s *Service) deleteSnapshotOnBackend(ctx context.Context, backend string, ref sdk.SnapshotRef) error {
	c, err := s.client(backend)
	if err == nil {
		err = c.DeleteSnapshot(ctx, ref)
	}
	if err != nil && sdk.CodeOf(err) != sdk.NotFound {
		return fmt.Errorf("delete snapshot %s from %s#%s: %w", ref.ID, backend, ref.Pool, err)
	}
	return nil
}

// createSnapshotOnFinish makes the snapshot `available` with the driver's data. A snapshot
// already available (a resumed flow) is done.
func (s *Service) createSnapshotOnFinish(ctx context.Context, st *snapshotState) error {
	snap, err := s.store.TransitionSnapshot(ctx, store.AllProjects(), st.SnapshotID, volume.SnapshotCreateDone,
		store.SnapshotChange{ProviderData: orEmpty(st.ProviderData)})
	var te *volume.TransitionError
	if errors.As(err, &te) && te.Current == volume.StatusAvailable {
		snap, err = s.store.Snapshot(ctx, store.AllProjects(), st.SnapshotID)
	}
	if err != nil {
		return err
	}
	s.snapshotEvent(ctx, snap, EventSnapshotCreateEnd)
	if be, ok := s.cfg.Backends.Backend(snap.Backend); ok {
		be.Refresh()
	}
	return nil
}

// snapshotEvent records a snapshot event under its volume, as notify does for volumes.
func (s *Service) snapshotEvent(ctx context.Context, snap store.Snapshot, kind string) {
	s.notify(ctx, &managerState{VolumeID: snap.VolumeID, ProjectID: snap.ProjectID, Backend: snap.Backend,
		Pool: snap.Pool}, kind)
	s.log.Debug(kind, "snapshot_id", snap.ID)
}
