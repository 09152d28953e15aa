package flows

import (
	"context"
	"errors"

	"github.com/kilnstorage/kiln/host/flow"
	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/volume"
	"github.com/kilnstorage/kiln/sdk"
)

// The snapshot_delete flow deletes an `available` or `error` snapshot, as volume_delete does a
// volume: SnapshotDeleteBeginTask moves it to `deleting` (refused while a volume is being
// created from it: the source lock, store/sources.go), DeleteSnapshotFromBackendTask has the
// driver delete it (a missing snapshot is success), SnapshotDeleteOnFinishTask soft-deletes the
// row, giving its quota back in the same transaction, exactly once. A driver failure puts the
// snapshot in `error_deleting`, never leaves it `deleting`. Every task may run again after a
// crash, so recovery finishes the flow. Like volume_delete, it runs in the request. An admin's
// os-force_delete runs the same flow from any status (Force).

// snapshotDeleteState is the snapshot_delete flow's journaled state.
type snapshotDeleteState struct {
	FlowID, SnapshotID, ProjectID string
	AllProjects                   bool
	// Force starts from any status (snapshot-force-delete), not only available or error.
	Force bool
	// Snapshot is the row as SnapshotDeleteBeginTask found it.
	Snapshot store.Snapshot
}

func (st *snapshotDeleteState) scope() store.Scope {
	if st.AllProjects {
		return store.AllProjects()
	}
	return store.ProjectScope(st.ProjectID)
}

func (s *Service) snapshotDeleteFlow() *flow.Flow[snapshotDeleteState] {
	return &flow.Flow[snapshotDeleteState]{Name: "snapshot_delete", Tasks: []flow.Task[snapshotDeleteState]{
		{Name: "SnapshotDeleteBeginTask", Execute: s.snapshotDeleteBegin, Resume: true},
		{Name: "DeleteSnapshotFromBackendTask", Execute: s.deleteSnapshotFromBackend,
			Revert: s.snapshotDeleteFailed, Resume: true, Outside: true},
		{Name: "SnapshotDeleteOnFinishTask", Execute: s.snapshotDeleteFinish, Resume: true},
	}}
}

// DeleteSnapshot deletes a snapshot the scope can see. A snapshot in a status that may not be
// deleted, or that a volume is being created from, is refused with a *volume.TransitionError,
// and nothing changes; the flow runs to its end even if the client hangs up.
func (s *Service) DeleteSnapshot(ctx context.Context, sc store.Scope, projectID, id string) error {
	return s.deleteSnapshotFlow(ctx, &snapshotDeleteState{FlowID: flow.NewID() + "-sd", SnapshotID: id,
		ProjectID: projectID, AllProjects: sc == store.AllProjects()})
}

// ForceDeleteSnapshot deletes a snapshot the scope can see from any status (an admin's
// os-force_delete); a driver failure leaves it `error_deleting`.
func (s *Service) ForceDeleteSnapshot(ctx context.Context, sc store.Scope, projectID, id string) error {
	return s.deleteSnapshotFlow(ctx, &snapshotDeleteState{FlowID: flow.NewID() + "-sf", SnapshotID: id,
		ProjectID: projectID, AllProjects: sc == store.AllProjects(), Force: true})
}

func (s *Service) deleteSnapshotFlow(ctx context.Context, st *snapshotDeleteState) error {
	if !s.deletes.claim(st.SnapshotID) {
		return busyDeleting(volume.KindSnapshot, st.SnapshotID, volume.SnapshotDeleteBegin)
	}
	defer s.deletes.done(st.SnapshotID)
	err := s.snapshotDeleter.Run(context.WithoutCancel(ctx), s.engine, st.FlowID, st)
	var te *flow.TaskError
	if errors.As(err, &te) && te.Task == "SnapshotDeleteBeginTask" {
		return te.Err // refused before anything changed
	}
	return err
}

// snapshotDeleteBegin moves the snapshot to `deleting`; one already `deleting` that no delete
// of this process is working on is taken over, as deleteBegin does for volumes.
func (s *Service) snapshotDeleteBegin(ctx context.Context, st *snapshotDeleteState) error {
	begin := volume.SnapshotDeleteBegin
	if st.Force {
		begin = volume.SnapshotForceDelete
	}
	// A cascade delete of its volume running here owns the snapshot's delete.
	if cur, err := s.store.Snapshot(ctx, st.scope(), st.SnapshotID); err == nil && s.deletes.has(cur.VolumeID) {
		return busyDeleting(volume.KindSnapshot, st.SnapshotID, begin)
	}
	snap, err := s.store.TransitionSnapshot(ctx, st.scope(), st.SnapshotID, begin, store.SnapshotChange{})
	var te *volume.TransitionError
	if errors.As(err, &te) && te.Current == volume.StatusDeleting && te.Reason == "" {
		snap, err = s.store.Snapshot(ctx, st.scope(), st.SnapshotID)
	}
	if err != nil {
		return err
	}
	st.Snapshot = snap
	s.snapshotEvent(ctx, snap, EventSnapshotDeleteStart)
	return nil
}

func (s *Service) deleteSnapshotFromBackend(ctx context.Context, st *snapshotDeleteState) error {
	snap := st.Snapshot
	err := s.deleteSnapshotOnBackend(ctx, snap.Backend, sdk.SnapshotRef{ID: snap.ID, SourceVolumeID: snap.VolumeID,
		Pool: snap.Pool, ProviderData: snap.ProviderData})
	if err == nil {
		if be, ok := s.cfg.Backends.Backend(snap.Backend); ok {
			be.Refresh()
		}
	}
	return err
}

// snapshotDeleteFailed puts the snapshot in `error_deleting` with why; never `deleting`.
func (s *Service) snapshotDeleteFailed(ctx context.Context, st *snapshotDeleteState, failure error) error {
	msg := "the delete could not be finished"
	if failure != nil {
		msg = clip(failure.Error())
	}
	_, err := s.store.TransitionSnapshot(ctx, store.AllProjects(), st.SnapshotID, volume.SnapshotDeleteFailed,
		store.SnapshotChange{Fault: &msg})
	var te *volume.TransitionError
	if errors.As(err, &te) && te.Current == volume.StatusErrorDeleting {
		return nil // already recorded before a crash
	}
	return err
}

// snapshotDeleteFinish soft-deletes the row with its quota; a row already gone is done.
func (s *Service) snapshotDeleteFinish(ctx context.Context, st *snapshotDeleteState) error {
	_, err := s.store.TransitionSnapshot(ctx, store.AllProjects(), st.SnapshotID, volume.SnapshotDestroy, store.SnapshotChange{})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err == nil {
		s.snapshotEvent(ctx, st.Snapshot, EventSnapshotDeleteEnd)
	}
	return err
}
