package flows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/kilnstorage/kiln/host/flow"
	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/volume"
	"github.com/kilnstorage/kiln/sdk"
)

// Event kinds the manager flow records (store.AddEvent) and logs.
const (
	EventCreateStart = "volume.create.start"
	EventCreateEnd   = "volume.create.end"
)

// managerState is the volume_create_manager flow's journaled state.
type managerState struct {
	FlowID   string
	VolumeID string
	// Backend and Pool are where the scheduler placed the volume.
	Backend, Pool string
	Retry         retry
	// Set by ExtractVolumeRefTask and ExtractVolumeSpecTask.
	ProjectID string
	Spec      sdk.CreateVolumeRequest
	// FromSnapshot or FromVolume is the source of a volume made from a snapshot or a clone.
	FromSnapshot *sdk.SnapshotRef `json:",omitempty"`
	FromVolume   *sdk.VolumeRef   `json:",omitempty"`
	// ProviderData is the driver's, once it created the volume.
	ProviderData map[string]string
	// Failure, Code and Exited describe the task failure that made the flow revert, for
	// OnFailureRescheduleTask's revert, which runs after it.
	Failure string
	Code    sdk.Code
	Exited  bool
	// Cleaned: the driver's volume was deleted after the failure.
	Cleaned bool
	// read is the row ExtractVolumeRefTask had, for ExtractVolumeSpecTask in the same run;
	// handed is what the scheduler flow that cast this run passed on (handoff). Unexported, so
	// never journaled: a resumed run reads them again.
	read   *store.Volume
	handed *handoff
}

func (s *Service) managerFlow() *flow.Flow[managerState] {
	t := func(name string, exec func(context.Context, *managerState) error) flow.Task[managerState] {
		return flow.Task[managerState]{Name: name, Execute: recordFailure(exec), Resume: true}
	}
	tasks := []flow.Task[managerState]{
		t("ExtractVolumeRefTask", s.extractVolumeRef),
		{Name: "OnFailureRescheduleTask", Execute: nothing[managerState], Revert: s.onFailureReschedule, Resume: true},
		t("ExtractVolumeSpecTask", s.extractVolumeSpec),
		t("NotifyVolumeActionTask", s.notifyStart),
		// The driver's create is idempotent by volume ID, so a crash resumes it.
		t("CreateVolumeFromSpecTask", s.createFromSpec),
		t("CreateVolumeOnFinishTask", s.createOnFinish),
	}
	tasks[4].Revert, tasks[4].Outside = s.revertCreate, true
	return &flow.Flow[managerState]{Name: "volume_create_manager", Tasks: tasks}
}

// recordFailure keeps a failing task's error in the state, where the reschedule decision reads
// it: a revert of an earlier task is not given the failure.
func recordFailure(exec func(context.Context, *managerState) error) func(context.Context, *managerState) error {
	return func(ctx context.Context, st *managerState) error {
		err := exec(ctx, st)
		if err != nil {
			st.Failure, st.Code, st.Exited = err.Error(), sdk.CodeOf(err), errors.Is(err, sdk.ErrPluginExited)
		}
		return err
	}
}

// extractVolumeRef reads the volume, which must still be `creating`.
func (s *Service) extractVolumeRef(ctx context.Context, st *managerState) error {
	v, err := s.handedVolume(ctx, st.VolumeID, st.handed)
	if err != nil {
		return err
	}
	if v.Status != volume.StatusCreating && v.Status != volume.StatusAvailable {
		return fmt.Errorf("volume %s is %s, not %s", v.ID, v.Status, volume.StatusCreating)
	}
	st.ProjectID, st.read = v.ProjectID, &v
	st.Spec = sdk.CreateVolumeRequest{ID: v.ID, Name: v.Name, SizeBytes: v.SizeBytes, Pool: st.Pool,
		Labels: map[string]string{"project": v.ProjectID, "volume_type": v.VolumeTypeID}}
	return nil
}

// extractVolumeSpec completes the driver's request from the volume type (the provisioning
// asked for) and the source (a snapshot or a volume), if any.
func (s *Service) extractVolumeSpec(ctx context.Context, st *managerState) error {
	if st.read == nil {
		v, err := s.store.Volume(ctx, store.AllProjects(), st.VolumeID)
		if err != nil {
			return fmt.Errorf("read volume %s: %w", st.VolumeID, err)
		}
		st.read = &v
	}
	v := *st.read
	specs, err := s.handedSpecs(ctx, v, st.handed)
	if err != nil {
		return err
	}
	switch specs["provisioning:type"] {
	case "thin":
		st.Spec.Thin = new(true)
	case "thick":
		st.Spec.Thin = new(false)
	}
	return s.sourceRefs(ctx, v, st)
}

// notifyStart records volume.create.start. As in Cinder, a failure to notify is not the
// create's failure: it is logged.
func (s *Service) notifyStart(ctx context.Context, st *managerState) error {
	s.notify(ctx, st, EventCreateStart)
	return nil
}

func (s *Service) notify(ctx context.Context, st *managerState, kind string) {
	detail, _ := json.Marshal(map[string]string{"backend": st.Backend, "pool": st.Pool})
	failed := func(err error) {
		s.log.Warn("cannot record event", "volume_id", st.VolumeID, "event", kind, "error", err)
	}
	if err := s.store.StageEvent(ctx, store.Event{VolumeID: st.VolumeID, ProjectID: st.ProjectID,
		Kind: kind, Detail: detail}, failed); err != nil {
		failed(err)
	}
	s.log.Info(kind, "volume_id", st.VolumeID, "backend", st.Backend, "pool", st.Pool)
}

// client returns the driver of the volume's backend.
func (s *Service) client(backend string) (*sdk.Client, error) {
	be, ok := s.cfg.Backends.Backend(backend)
	if !ok {
		return nil, sdk.ErrorUnavailable(fmt.Sprintf("backend %q is not configured on this host", backend), 0)
	}
	c, err := be.Client()
	if err != nil {
		// Down or restarting: Unavailable, as a call to a driver that is not there.
		return nil, sdk.ErrorUnavailable(fmt.Sprintf("backend %s: %v", backend, err), 0)
	}
	return c, nil
}

// createFromSpec has the driver create the volume.
func (s *Service) createFromSpec(ctx context.Context, st *managerState) error {
	c, err := s.client(st.Backend)
	if err != nil {
		return err
	}
	v, err := createOnDriver(ctx, c, st)
	if err != nil {
		return fmt.Errorf("create volume %s on %s#%s: %w", st.VolumeID, st.Backend, st.Pool, err)
	}
	st.ProviderData = v.ProviderData
	return nil
}

// revertCreate is CreateVolumeFromSpecTask's revert. A driver that answered with an error
// created nothing (the SDK's contract); when the outcome is unknown — a timeout, a dead driver, an
// internal error, a crash — whatever the create may have made is deleted, waiting for a
// restarting backend (cleanUp).
func (s *Service) revertCreate(ctx context.Context, st *managerState, _ error) error {
	if !needsCleanup(st) {
		return nil
	}
	return s.cleanUp(ctx, st)
}

// deleteFromBackend deletes what the driver may have created; deleting a volume it does not
// have is success.
func (s *Service) deleteFromBackend(ctx context.Context, st *managerState, _ error) error {
	c, err := s.client(st.Backend)
	if err == nil {
		err = c.DeleteVolume(ctx, sdk.VolumeRef{ID: st.VolumeID, Pool: st.Pool, ProviderData: st.ProviderData})
	}
	if err != nil && sdk.CodeOf(err) != sdk.NotFound {
		return fmt.Errorf("delete volume %s from %s#%s: %w", st.VolumeID, st.Backend, st.Pool, err)
	}
	st.Cleaned = true
	return nil
}

// createOnFinish makes the volume `available` on its pool, records volume.create.end and has
// the backend report its capacity. A volume already available there (a resumed flow) is done.
//
// The transition is answered early (store.Early): nothing outside the store acts on it, and
// should it be lost with the machine before its fsync, recovery finds the flow at the
// boundary before this task (or the durable one before the driver call) and runs it again.
func (s *Service) createOnFinish(ctx context.Context, st *managerState) error {
	where := store.PoolKey{Backend: st.Backend, Pool: st.Pool}.String()
	_, err := s.store.TransitionVolume(store.Early(ctx), store.AllProjects(), st.VolumeID, volume.CreateDone,
		store.VolumeChange{Backend: &st.Backend, Pool: &st.Pool, ProviderData: orEmpty(st.ProviderData),
			Attempt: where})
	if err != nil && !s.alreadyDone(ctx, st) {
		return err
	}
	s.notify(ctx, st, EventCreateEnd)
	if be, ok := s.cfg.Backends.Backend(st.Backend); ok {
		be.Refresh()
	}
	return nil
}

func (s *Service) alreadyDone(ctx context.Context, st *managerState) bool {
	v, err := s.store.Volume(ctx, store.AllProjects(), st.VolumeID)
	return err == nil && v.Status == volume.StatusAvailable && v.Backend == st.Backend && v.Pool == st.Pool
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
