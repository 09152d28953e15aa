package flows

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/kilnstorage/kiln/host/flow"
	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/volume"
	"github.com/kilnstorage/kiln/sdk"
)

// The volume_delete flow deletes a volume (Cinder's preconditions in the transition table):
// DeleteBeginTask moves it to `deleting` (delete-begin; force-delete for an admin's
// os-force_delete; with cascade, delete-cascade-begin, which moves its snapshots to `deleting`
// in the same transaction), DeleteSnapshotsTask has the driver delete each of those snapshots
// and soft-deletes its row (usage given back), DeleteFromBackendTask has the driver delete the
// volume (idempotent: a missing volume is success), DeleteOnFinishTask soft-deletes the row,
// giving its quota and capacity claim back in the same transaction, exactly once. A driver
// failure puts the volume in `error_deleting` (and the snapshots not yet deleted too); a driver
// that says the volume is in use puts it back to `available`. Every task may run again after a
// crash, so recovery finishes the flow.
//
// The flow runs in the request: it returns once the driver has answered. Deletes that take long
// (thick LVM zeroing) are to move to a queue with the rest of the lifecycle.

// Events of the delete flow.
const (
	EventDeleteStart = "volume.delete.start"
	EventDeleteEnd   = "volume.delete.end"
)

// deleteState is the volume_delete flow's journaled state.
type deleteState struct {
	FlowID, VolumeID, ProjectID string
	AllProjects                 bool
	Backend, Pool               string
	ProviderData                map[string]string
	// Cascade deletes the volume's snapshots first; Force is an admin's os-force_delete.
	Cascade, Force bool
	// Snapshots are the snapshots a cascade moved to deleting.
	Snapshots []snapshotRef
}

// snapshotRef is what deleting a snapshot on its backend needs.
type snapshotRef struct {
	ID, VolumeID, Backend, Pool string
	ProviderData                map[string]string
}

// DeleteOptions are a delete's variants.
type DeleteOptions struct {
	// Cascade deletes the volume's snapshots first (DELETE …?cascade=true); every one must be
	// available or error.
	Cascade bool
	// Force deletes from any status (an admin's os-force_delete); the volume must still have no
	// snapshots.
	Force bool
}

func (st *deleteState) scope() store.Scope {
	if st.AllProjects {
		return store.AllProjects()
	}
	return store.ProjectScope(st.ProjectID)
}

func (s *Service) deleteFlow() *flow.Flow[deleteState] {
	return &flow.Flow[deleteState]{Name: "volume_delete", Tasks: []flow.Task[deleteState]{
		{Name: "DeleteBeginTask", Execute: s.deleteBegin, Resume: true},
		{Name: "DeleteSnapshotsTask", Execute: s.deleteSnapshots, Revert: s.snapshotsFailed, Resume: true,
			Outside: true},
		{Name: "DeleteFromBackendTask", Execute: s.deleteOnBackend, Revert: s.deleteFailed, Resume: true,
			Outside: true},
		{Name: "DeleteOnFinishTask", Execute: s.deleteFinish, Resume: true},
	}}
}

// DeleteVolume deletes a volume the scope can see. A volume in a status that may not be deleted
// (or with snapshots, without cascade) is refused with a *volume.TransitionError naming the
// allowed statuses, and nothing changes.
func (s *Service) DeleteVolume(ctx context.Context, sc store.Scope, projectID, id string, o DeleteOptions) error {
	st := &deleteState{FlowID: flow.NewID() + "-d", VolumeID: id, ProjectID: projectID,
		AllProjects: sc == store.AllProjects(), Cascade: o.Cascade, Force: o.Force}
	if !s.deletes.claim(id) {
		return busyDeleting(volume.KindVolume, id, volume.DeleteBegin)
	}
	defer s.deletes.done(id)
	// A client that hangs up must not stop a delete half-way: the flow runs to its end.
	err := s.deleter.Run(context.WithoutCancel(ctx), s.engine, st.FlowID, st)
	var te *flow.TaskError
	if errors.As(err, &te) && te.Task == "DeleteBeginTask" {
		return te.Err // refused before anything changed
	}
	return err
}

// busyDeleting is the refusal of a delete while another delete of the row runs here.
func busyDeleting(k volume.Kind, id string, tr volume.Transition) error {
	return &volume.TransitionError{Kind: k, ID: id, Transition: tr.Name(), Current: volume.StatusDeleting,
		Expected: tr.From(), Reason: "another delete of it is running"}
}

// deleteBegin moves the volume to `deleting`. A volume already `deleting` that no delete of
// this process is working on (DeleteVolume refuses those, as Cinder does) is taken over: a flow
// resumed after a crash finds its own work there (the journal cannot tell), and the delete's
// later steps are idempotent, so a delete of a volume a dead process left `deleting` finishes
// it rather than leave it — where Cinder would answer 400.
func (s *Service) deleteBegin(ctx context.Context, st *deleteState) error {
	v, snaps, err := s.beginDelete(ctx, st)
	var te *volume.TransitionError
	if errors.As(err, &te) && te.Current == volume.StatusDeleting {
		if v, err = s.store.Volume(ctx, st.scope(), st.VolumeID); err == nil && st.Cascade {
			snaps, err = s.store.ListSnapshots(ctx, store.AllProjects(),
				store.SnapshotFilter{VolumeID: v.ID, Status: volume.StatusDeleting}, store.ListOptions{})
		}
	}
	if err != nil {
		return err
	}
	st.Backend, st.Pool, st.ProviderData = v.Backend, v.Pool, v.ProviderData
	st.Snapshots = nil
	for _, sn := range snaps {
		st.Snapshots = append(st.Snapshots, snapshotRef{ID: sn.ID, VolumeID: sn.VolumeID,
			Backend: sn.Backend, Pool: sn.Pool, ProviderData: sn.ProviderData})
	}
	s.event(ctx, st, EventDeleteStart)
	return nil
}

// beginDelete applies the delete's first transition.
func (s *Service) beginDelete(ctx context.Context, st *deleteState) (store.Volume, []store.Snapshot, error) {
	switch {
	case st.Cascade && !st.Force:
		return s.store.BeginCascadeDelete(ctx, st.scope(), st.VolumeID, volume.DeleteCascadeBegin)
	case st.Force:
		v, err := s.store.TransitionVolume(ctx, st.scope(), st.VolumeID, volume.ForceDelete, store.VolumeChange{})
		return v, nil, err
	}
	v, err := s.store.TransitionVolume(ctx, st.scope(), st.VolumeID, volume.DeleteBegin, store.VolumeChange{})
	return v, nil, err
}

// deleteSnapshots deletes the snapshots a cascade moved to deleting: each on its backend, then
// its row (usage given back). A snapshot already gone is done.
func (s *Service) deleteSnapshots(ctx context.Context, st *deleteState) error {
	for _, sn := range st.Snapshots {
		if err := s.deleteSnapshot(ctx, sn); err != nil {
			return err
		}
	}
	return nil
}

// deleteSnapshot deletes one `deleting` snapshot on its backend and soft-deletes its row.
func (s *Service) deleteSnapshot(ctx context.Context, sn snapshotRef) error {
	if _, err := s.store.Snapshot(ctx, store.AllProjects(), sn.ID); errors.Is(err, store.ErrNotFound) {
		return nil
	}
	c, err := s.client(sn.Backend)
	if err == nil {
		err = c.DeleteSnapshot(ctx, sdk.SnapshotRef{ID: sn.ID, SourceVolumeID: sn.VolumeID, Pool: sn.Pool,
			ProviderData: sn.ProviderData})
	}
	if err != nil && sdk.CodeOf(err) != sdk.NotFound {
		return fmt.Errorf("delete snapshot %s from %s#%s: %w", sn.ID, sn.Backend, sn.Pool, err)
	}
	if be, ok := s.cfg.Backends.Backend(sn.Backend); ok {
		be.Refresh()
	}
	_, err = s.store.TransitionSnapshot(ctx, store.AllProjects(), sn.ID, volume.SnapshotDestroy, store.SnapshotChange{})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// snapshotsFailed records a failed cascade: every snapshot not deleted and the volume go to
// `error_deleting` with the fault (never left `deleting`).
func (s *Service) snapshotsFailed(ctx context.Context, st *deleteState, failure error) error {
	if failure == nil {
		return nil // a later task failed; its revert records the volume's status
	}
	msg := clip(failure.Error())
	for _, sn := range st.Snapshots {
		if err := s.snapshotFailed(ctx, sn.ID, msg); err != nil {
			return err
		}
	}
	return s.settleDelete(ctx, st, volume.DeleteFailed, msg)
}

// snapshotFailed moves a `deleting` snapshot to `error_deleting`; one gone or already moved is
// left alone.
func (s *Service) snapshotFailed(ctx context.Context, id, fault string) error {
	_, err := s.store.TransitionSnapshot(ctx, store.AllProjects(), id, volume.SnapshotDeleteFailed,
		store.SnapshotChange{Fault: &fault})
	var te *volume.TransitionError
	if errors.As(err, &te) || errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// deleteOnBackend has the driver delete the volume; a volume never placed has nothing there.
func (s *Service) deleteOnBackend(ctx context.Context, st *deleteState) error {
	if st.Backend == "" {
		return nil
	}
	c, err := s.client(st.Backend)
	if err == nil {
		err = c.DeleteVolume(ctx, sdk.VolumeRef{ID: st.VolumeID, Pool: st.Pool, ProviderData: st.ProviderData})
	}
	if err != nil && sdk.CodeOf(err) != sdk.NotFound {
		return fmt.Errorf("delete volume %s from %s#%s: %w", st.VolumeID, st.Backend, st.Pool, err)
	}
	if be, ok := s.cfg.Backends.Backend(st.Backend); ok {
		be.Refresh()
	}
	return nil
}

// deleteFailed records why the delete did not finish: the driver said in use → `available`
// again; the driver failed, or the row could not be finished (failure nil: a later task) →
// `error_deleting` with the fault. Never `deleting`.
func (s *Service) deleteFailed(ctx context.Context, st *deleteState, failure error) error {
	msg := "the delete could not be finished"
	if failure != nil {
		msg = failure.Error()
	}
	t := volume.DeleteFailed
	if sdk.CodeOf(failure) == sdk.InUse {
		t = volume.DeleteBusy
	}
	return s.settleDelete(ctx, st, t, msg)
}

// settleDelete moves the `deleting` volume by t with the fault. A volume no longer deleting is
// left alone: settled before a crash, or moved by someone else, whose outcome stands.
func (s *Service) settleDelete(ctx context.Context, st *deleteState, t volume.Transition, fault string) error {
	return s.settle(ctx, st.VolumeID, t, fault)
}

// settle moves a volume by t with the fault (clipped). A volume that is gone, or whose status
// is one of settled, or any when settled is empty, is left alone: a revert that runs again
// after a crash, or after an admin forced the volume elsewhere, changes nothing.
func (s *Service) settle(ctx context.Context, id string, t volume.Transition, fault string, settled ...volume.Status) error {
	fault = clip(fault)
	_, err := s.store.TransitionVolume(ctx, store.AllProjects(), id, t, store.VolumeChange{Fault: &fault})
	var te *volume.TransitionError
	if errors.As(err, &te) && (len(settled) == 0 || slices.Contains(settled, te.Current)) || errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// deleteFinish soft-deletes the row with its quota and claims; a row already gone is done.
func (s *Service) deleteFinish(ctx context.Context, st *deleteState) error {
	_, err := s.store.TransitionVolume(ctx, store.AllProjects(), st.VolumeID, volume.Destroy, store.VolumeChange{})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err == nil {
		s.event(ctx, st, EventDeleteEnd)
	}
	return err
}

// event records a delete event as notify does for creates.
func (s *Service) event(ctx context.Context, st *deleteState, kind string) {
	s.notify(ctx, &managerState{VolumeID: st.VolumeID, ProjectID: st.ProjectID, Backend: st.Backend, Pool: st.Pool}, kind)
}
