package flows

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kilnstorage/kiln/host/flow"
	"github.com/kilnstorage/kiln/host/scheduler"
	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/volume"
)

// retry is what one attempt tells the next, beside the volume row (which keeps the attempts,
// the pools tried and the last error).
type retry struct {
	// InternalSeen: an earlier attempt failed with Internal, which is rescheduled only once.
	InternalSeen bool
}

// scheduleState is the volume_create_scheduler flow's journaled state.
type scheduleState struct {
	FlowID   string
	VolumeID string
	Retry    retry
	// Request is what ExtractSchedulerSpecTask built.
	Request scheduler.Request
	// Backend and Pool are where ScheduleCreateVolumeTask placed the volume.
	Backend, Pool string
	// handed is the volume and its type's extra specs as the API flow that cast this run wrote
	// and read them, then as ExtractSchedulerSpecTask had them, for the manager flow.
	handed *handoff
}

// handoff is what a flow passes the flow it casts in the same process: the volume row as it
// wrote or read it, and its type's extra specs, so that the next flow does not read them back
// (a read right after a write costs a reload of the reader's page cache). As in Cinder, where
// the API hands the scheduler its request spec and the volume, the handed values are as of the
// request. While creating, only an admin changes the row: a rename reaches the driver's label
// late; a force-delete (os-reset_status cannot leave creating) is caught by the placement,
// which checks the status in its transaction and claims nothing, or, after it, by the
// compare-and-swap of the create's last transition, whose revert deletes what the driver made.
// The type's specs cannot change while a volume uses it. Unexported, so never journaled: a
// resumed or rescheduled run reads both.
type handoff struct {
	volume store.Volume
	specs  map[string]string
}

// handedVolume returns the handed row, or reads it when nothing was handed.
func (s *Service) handedVolume(ctx context.Context, id string, h *handoff) (store.Volume, error) {
	if h != nil {
		return h.volume, nil
	}
	v, err := s.store.Volume(ctx, store.AllProjects(), id)
	if err != nil {
		return store.Volume{}, fmt.Errorf("read volume %s: %w", id, err)
	}
	return v, nil
}

// handedSpecs returns the handed extra specs of v's type, or reads the type when nothing was
// handed.
func (s *Service) handedSpecs(ctx context.Context, v store.Volume, h *handoff) (map[string]string, error) {
	if h != nil {
		return h.specs, nil
	}
	vt, err := s.store.VolumeType(ctx, v.VolumeTypeID)
	if err != nil {
		return nil, fmt.Errorf("volume type of volume %s: %w", v.ID, err)
	}
	return vt.ExtraSpecs, nil
}

func (s *Service) scheduleFlow() *flow.Flow[scheduleState] {
	return &flow.Flow[scheduleState]{Name: "volume_create_scheduler", Tasks: []flow.Task[scheduleState]{
		{Name: "ExtractSchedulerSpecTask", Execute: s.extractSchedulerSpec, Revert: s.specFailed, Resume: true},
		// Place is idempotent for one volume and flow, and the cast is lost with the process,
		// so a crash resumes this task.
		{Name: "ScheduleCreateVolumeTask", Execute: s.scheduleVolume, Revert: s.scheduleFailed, Resume: true},
	}}
}

// castSchedule submits a run of the scheduler flow for the volume.
func (s *Service) castSchedule(volumeID string, r retry, submit func(Job) error) error {
	return s.castScheduleAs(flow.NewID(), volumeID, r, nil, submit)
}

// castScheduleAs is castSchedule for a scheduler flow of a given ID, handed h when not nil.
func (s *Service) castScheduleAs(id, volumeID string, r retry, h *handoff, submit func(Job) error) error {
	st := &scheduleState{FlowID: id, VolumeID: volumeID, Retry: r, handed: h}
	return s.track(volumeID, submit, func(ctx context.Context) {
		if err := s.schedF.Run(ctx, s.engine, st.FlowID, st); err != nil {
			s.log.Warn("scheduling failed", "volume_id", volumeID, "flow", st.FlowID, "error", err)
		}
	})
}

// extractSchedulerSpec builds the scheduler's request from the volume, its type's extra specs
// and the pools already tried; both as handed by the API flow, or read.
func (s *Service) extractSchedulerSpec(ctx context.Context, st *scheduleState) error {
	v, err := s.handedVolume(ctx, st.VolumeID, st.handed)
	if err != nil {
		return err
	}
	if v.Status != volume.StatusCreating {
		return fmt.Errorf("volume %s is %s, not %s", v.ID, v.Status, volume.StatusCreating)
	}
	specs, err := s.handedSpecs(ctx, v, st.handed)
	if err != nil {
		return err
	}
	st.handed = &handoff{volume: v, specs: specs}
	req := scheduler.Request{Size: v.SizeBytes, Zone: v.AvailabilityZone, ExtraSpecs: specs}
	for _, a := range v.Attempted {
		backend, pool, _ := strings.Cut(a, "#")
		req.Attempted = append(req.Attempted, scheduler.PoolRef{Backend: backend, Pool: pool})
	}
	if err := s.restrictToSource(ctx, v, &req); err != nil {
		return err
	}
	st.Request = req
	return nil
}

// specFailed ends the volume in `error` when its spec could not be built (it is no longer
// `creating`, or its type is gone), so that it never stays `creating`.
func (s *Service) specFailed(ctx context.Context, st *scheduleState, failure error) error {
	if failure == nil {
		return nil
	}
	return s.failVolume(ctx, st.VolumeID, "", failure.Error())
}

// scheduleVolume places the volume and casts it to the volume queue. The placement is
// answered early and may wait for a commit (store.Lazy): the manager flow saves its boundary
// before it calls the driver, which commits the claim and makes it durable first.
func (s *Service) scheduleVolume(ctx context.Context, st *scheduleState) error {
	claim, err := s.store.Place(store.Lazy(ctx), store.PlaceRequest{VolumeID: st.VolumeID, FlowID: st.FlowID,
		Bytes: st.Request.Size, Status: volume.StatusCreating}, s.decide(st.Request))
	if err != nil {
		return err
	}
	st.Backend, st.Pool = claim.Backend, claim.Pool
	if err := s.castManager(ctx, st); err != nil {
		return fmt.Errorf("cast volume %s to the volume manager: %w", st.VolumeID, err)
	}
	return nil
}

// decide runs scheduler.Pick over the candidates as the placement transaction sees them.
func (s *Service) decide(req scheduler.Request) store.Decide {
	return func(candidates []store.PoolState) (store.PoolKey, error) {
		now := time.Now()
		pools := make([]scheduler.Pool, len(candidates))
		for i, c := range candidates {
			pools[i] = c.SchedulerPool(now)
		}
		d, err := scheduler.Pick(s.cfg.Scheduler, pools, req)
		if err != nil {
			return store.PoolKey{}, err
		}
		best := d.Pools[0].Pool
		return store.PoolKey{Backend: best.Backend, Pool: best.Name}, nil
	}
}

// castManager queues the manager flow for the placed volume, waiting for room: the volume
// queue's workers never wait on the scheduler queue, so this cannot deadlock.
func (s *Service) castManager(ctx context.Context, st *scheduleState) error {
	ms := &managerState{FlowID: managerFlowID(st.FlowID), VolumeID: st.VolumeID, Backend: st.Backend,
		Pool: st.Pool, Retry: st.Retry, handed: st.handed}
	submit := func(j Job) error { return s.vol.Submit(ctx, j) }
	return s.track(ms.VolumeID, submit, func(ctx context.Context) {
		if err := s.manager.Run(ctx, s.engine, ms.FlowID, ms); err != nil {
			s.log.Warn("volume create failed", "volume_id", ms.VolumeID, "flow", ms.FlowID, "error", err)
		}
	})
}

// managerFlowID is the ID of the manager flow that scheduler flow id casts.
func managerFlowID(id string) string { return id + "-m" }

// scheduleFailed ends the volume in `error` with why scheduling failed (for no valid pool, the
// scheduler's per-filter explanation, after the last attempt's error), and gives the claim
// back. A volume that is no longer `creating` is left alone.
func (s *Service) scheduleFailed(ctx context.Context, st *scheduleState, failure error) error {
	if failure == nil {
		failure = errors.New("scheduling was reverted")
	}
	if err := s.store.ReleaseFlowClaims(ctx, st.FlowID); err != nil {
		return err
	}
	return s.failVolume(ctx, st.VolumeID, "", failure.Error())
}

// failVolume moves a `creating` volume to `error` with fault, after the volume's last error
// when it had one, recording an attempt on pool when pool is not empty. A volume that is gone
// or no longer `creating` is left alone.
func (s *Service) failVolume(ctx context.Context, id, pool, fault string) error {
	v, err := s.store.Volume(ctx, store.AllProjects(), id)
	if errors.Is(err, store.ErrNotFound) || err == nil && v.Status != volume.StatusCreating {
		return nil
	}
	if err != nil {
		return err
	}
	if v.Fault != "" && pool == "" {
		fault += " (last error: " + v.Fault + ")"
	}
	fault = clip(fault)
	_, err = s.store.TransitionVolume(ctx, store.AllProjects(), id, volume.CreateFailed,
		store.VolumeChange{Fault: &fault, Attempt: pool})
	var te *volume.TransitionError
	if errors.As(err, &te) {
		return nil
	}
	s.log.Info("volume create failed", "volume_id", id, "fault", fault)
	return err
}

// maxFault bounds a fault, as Cinder bounds a reason, but more generously: the scheduler's
// explanation and the last driver error together must fit.
const maxFault = 1024

func clip(s string) string {
	if len(s) <= maxFault {
		return s
	}
	return strings.ToValidUTF8(s[:maxFault-3], "") + "..."
}
