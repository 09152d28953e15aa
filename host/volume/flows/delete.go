package flows

import (
	"context"
	"errors"
	"fmt"

	"github.com/kilnstorage/kiln/host/flow"
	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/volume"
	"github.com/kilnstorage/kiln/sdk"
)

// The volume_delete flow deletes an `available` or `error` volume (Cinder's preconditions in
// the transition table): DeleteBeginTask moves it to `deleting`, DeleteFromBackendTask has the
// driver delete it (idempotent: a missing volume is success), DeleteOnFinishTask soft-deletes the
// row, giving its quota and capacity claim back in the same transaction, exactly once. A driver
// failure puts the volume in `error_deleting`; a driver that says the volume is in use puts it
// back to `available`. Every task may run again after a crash, so recovery finishes the flow.
//
// The flow runs in the request: it returns once the driver has answered. Deletes that take long
// (thick LVM zeroing) are to move to a queue with the rest of the lifecycle (issue 7).

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
		{Name: "DeleteFromBackendTask", Execute: s.deleteOnBackend, Revert: s.deleteFailed, Resume: true,
			Outside: true},
		{Name: "DeleteOnFinishTask", Execute: s.deleteFinish, Resume: true},
	}}
}

// DeleteVolume deletes a volume the scope can see. A volume in a status that may not be deleted
// is refused with a *volume.TransitionError naming the allowed statuses, and nothing changes.
func (s *Service) DeleteVolume(ctx context.Context, sc store.Scope, projectID, id string) error {
	st := &deleteState{FlowID: flow.NewID() + "-d", VolumeID: id, ProjectID: projectID, AllProjects: sc == store.AllProjects()}
	// A client that hangs up must not stop a delete half-way: the flow runs to its end.
	err := s.deleter.Run(context.WithoutCancel(ctx), s.engine, st.FlowID, st)
	var te *flow.TaskError
	if errors.As(err, &te) && te.Task == "DeleteBeginTask" {
		return te.Err // refused before anything changed
	}
	return err
}

// deleteBegin moves the volume to `deleting`. A volume already `deleting` is taken over: a
// flow resumed after a crash finds its own work there (the journal cannot tell), and the
// delete's later steps are idempotent, so a second delete of such a volume finishes it too
// rather than leave it — where Cinder would answer 400.
func (s *Service) deleteBegin(ctx context.Context, st *deleteState) error {
	v, err := s.store.TransitionVolume(ctx, st.scope(), st.VolumeID, volume.DeleteBegin, store.VolumeChange{})
	var te *volume.TransitionError
	if errors.As(err, &te) && te.Current == volume.StatusDeleting {
		v, err = s.store.Volume(ctx, st.scope(), st.VolumeID)
	}
	if err != nil {
		return err
	}
	st.Backend, st.Pool, st.ProviderData = v.Backend, v.Pool, v.ProviderData
	s.event(ctx, st, EventDeleteStart)
	return nil
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
	_, err := s.store.TransitionVolume(ctx, store.AllProjects(), st.VolumeID, t, store.VolumeChange{Fault: &msg})
	var te *volume.TransitionError
	if errors.As(err, &te) && (te.Current == volume.StatusErrorDeleting || te.Current == volume.StatusAvailable) {
		return nil // already recorded before a crash
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
