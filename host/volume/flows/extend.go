package flows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/kilnstorage/kiln/host/flow"
	"github.com/kilnstorage/kiln/host/scheduler"
	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/volume"
	"github.com/kilnstorage/kiln/sdk"
)

// The volume_extend flow grows an `available` volume (Cinder's API.extend, the scheduler's
// extend_volume and the manager's extend_volume in one journaled flow):
//
//   - ExtendRequestTask checks the request (growth only, the type's maximum size, the status)
//     and reserves the quota of the difference (gigabytes, per type, per_volume_gigabytes).
//   - ExtendBeginTask moves the volume `available` → `extending`. It does not resume: a crash
//     there reverts the flow, which gives `extending` back to `available`.
//   - ExtendCapacityTask claims the difference on the volume's own pool through store.Place,
//     filtered by the scheduler restricted to that pool (Cinder's backend_passes_filters).
//     No valid backend: back to `available`, the quota rolled back.
//   - ExtendVolumeTask has the driver extend the volume (idempotent: a volume already as large
//     is returned as it is). A failure: `error_extending`, the quota rolled back and the claim
//     released, so that the row, the usage and the ledger keep the old size.
//   - ExtendOnFinishTask moves it to `available` with the new size, committing the quota in the
//     same transaction.

// Events of the extend flow.
const (
	EventExtendStart = "volume.extend.start"
	EventExtendEnd   = "volume.extend.end"
)

// ErrExtendSize is an extend to a size that is not larger than the volume's.
var ErrExtendSize = errors.New("New size for extend must be greater than current size")

// extendState is the volume_extend flow's journaled state.
type extendState struct {
	FlowID, VolumeID, ProjectID string
	AllProjects                 bool
	NewSizeGiB                  int64
	// Set by ExtendRequestTask.
	OldBytes, NewBytes int64
	TypeName           string
	Request            scheduler.Request
	// Set by ExtendBeginTask.
	Backend, Pool string
	ProviderData  map[string]string
}

func (st *extendState) scope() store.Scope {
	if st.AllProjects {
		return store.AllProjects()
	}
	return store.ProjectScope(st.ProjectID)
}

func (s *Service) extendFlow() *flow.Flow[extendState] {
	return &flow.Flow[extendState]{Name: "volume_extend", Tasks: []flow.Task[extendState]{
		{Name: "ExtendRequestTask", Execute: s.extendRequest, Revert: s.extendRollback, Resume: true},
		{Name: "ExtendBeginTask", Execute: s.extendBegin, Revert: s.extendUndoBegin},
		{Name: "ExtendCapacityTask", Execute: s.extendCapacity, Revert: s.extendNoValidBackend, Resume: true},
		{Name: "ExtendVolumeTask", Execute: s.extendOnBackend, Revert: s.extendFailed, Resume: true, Outside: true},
		{Name: "ExtendOnFinishTask", Execute: s.extendFinish, Resume: true},
	}}
}

// ExtendVolume grows a volume the scope can see to newSizeGiB. A request refused before the
// volume changed (not found, a status other than available, not growing, over quota) returns
// its error and changes nothing; once the volume was `extending`, the flow's outcome shows in
// its status (available with the new size; available again when the pool has no room;
// error_extending when the driver failed) and the error is a *flow.TaskError.
func (s *Service) ExtendVolume(ctx context.Context, sc store.Scope, projectID, id string, newSizeGiB int64) error {
	st := &extendState{FlowID: flow.NewID() + "-x", VolumeID: id, ProjectID: projectID,
		AllProjects: sc == store.AllProjects(), NewSizeGiB: newSizeGiB}
	err := s.extender.Run(context.WithoutCancel(ctx), s.engine, st.FlowID, st)
	var te *flow.TaskError
	if errors.As(err, &te) && (te.Task == "ExtendRequestTask" || te.Task == "ExtendBeginTask") {
		return te.Err
	}
	return err
}

// extendRequest validates the request against the volume and reserves the quota of the
// difference.
func (s *Service) extendRequest(ctx context.Context, st *extendState) error {
	v, err := s.store.Volume(ctx, st.scope(), st.VolumeID)
	if err != nil {
		return err
	}
	if err := volume.ExtendBegin.Check(v.ID, v.Status); err != nil {
		return err
	}
	if st.NewSizeGiB*store.GiB <= v.SizeBytes {
		//lint:ignore ST1005 Cinder's message, word for word, which clients may match
		return fmt.Errorf("%w: %w. (current: %d, extended: %d).", ErrInvalidRequest, ErrExtendSize,
			store.SizeGiB(v.SizeBytes), st.NewSizeGiB)
	}
	if m := s.cfg.MaxSizeGiB; m > 0 && st.NewSizeGiB > m {
		return fmt.Errorf("%w: size %d GiB exceeds the maximum of %d GiB", ErrInvalidRequest, st.NewSizeGiB, m)
	}
	vt, err := s.store.VolumeType(ctx, v.VolumeTypeID)
	if err != nil {
		return fmt.Errorf("volume type of volume %s: %w", v.ID, err)
	}
	if err := checkTypeSize(vt, st.NewSizeGiB); err != nil {
		return err
	}
	st.OldBytes, st.NewBytes, st.TypeName = v.SizeBytes, st.NewSizeGiB*store.GiB, vt.Name
	st.Request = scheduler.Request{Size: st.NewBytes - st.OldBytes, VolumeSize: st.NewBytes,
		Zone: v.AvailabilityZone, ExtraSpecs: vt.ExtraSpecs, Requires: scheduler.FeatureExtend,
		Only: scheduler.PoolRef{Backend: v.Backend, Pool: v.Pool}}
	return s.store.Reserve(ctx, store.Reservation{FlowID: st.FlowID, ProjectID: v.ProjectID,
		Deltas: store.ExtendDeltas(vt.Name, st.OldBytes, st.NewBytes), VolumeGigabytes: st.NewSizeGiB})
}

func (s *Service) extendRollback(ctx context.Context, st *extendState, _ error) error {
	return s.store.RollbackReservations(ctx, st.FlowID)
}

// extendBegin moves the volume to `extending`; a volume on no backend cannot grow.
func (s *Service) extendBegin(ctx context.Context, st *extendState) error {
	v, err := s.store.Volume(ctx, st.scope(), st.VolumeID)
	if err != nil {
		return err
	}
	if v.Backend == "" {
		return &volume.TransitionError{Kind: volume.KindVolume, ID: v.ID, Transition: volume.ExtendBegin.Name(),
			Current: v.Status, Expected: volume.ExtendBegin.From(), Reason: "it is on no backend"}
	}
	if v.SizeBytes != st.OldBytes {
		return fmt.Errorf("%w: volume %s changed size while the extend began", ErrInvalidRequest, v.ID)
	}
	v, err = s.store.TransitionVolume(ctx, st.scope(), st.VolumeID, volume.ExtendBegin, store.VolumeChange{})
	if err != nil {
		return err
	}
	st.Backend, st.Pool, st.ProviderData = v.Backend, v.Pool, v.ProviderData
	s.extendEvent(ctx, st, EventExtendStart)
	return nil
}

// extendUndoBegin gives an `extending` volume back to `available` when the flow reverts from
// a later task whose revert did not settle it, or when the process died during extendBegin
// (failure ErrInterrupted) and the volume is extending for no other flow.
func (s *Service) extendUndoBegin(ctx context.Context, st *extendState, failure error) error {
	if failure != nil && !errors.Is(failure, flow.ErrInterrupted) {
		return nil // the begin itself was refused: nothing changed
	}
	if failure != nil {
		if other, err := s.otherExtend(ctx, st); err != nil || other {
			return err
		}
	}
	msg := "the extend was reverted"
	return s.settleExtend(ctx, st, volume.ExtendNoValidBackend, msg)
}

// otherExtend reports whether another unfinished extend flow of the volume got past its begin:
// then `extending` is that flow's.
func (s *Service) otherExtend(ctx context.Context, st *extendState) (bool, error) {
	entries, err := s.engine.Journal.Unfinished(ctx)
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		var o extendState
		if e.ID == st.FlowID || e.Flow != s.extender.Name || json.Unmarshal(e.State, &o) != nil {
			continue
		}
		if o.VolumeID == st.VolumeID && o.Backend != "" {
			return true, nil
		}
	}
	return false, nil
}

// settleExtend moves an `extending` volume by t with a fault; a volume no longer extending
// (settled before a crash, or deleted by force) is left alone.
func (s *Service) settleExtend(ctx context.Context, st *extendState, t volume.Transition, fault string) error {
	return s.settle(ctx, st.VolumeID, t, fault)
}

// extendCapacity claims the difference on the volume's pool, if the scheduler's filters, run
// on that pool alone, let it.
func (s *Service) extendCapacity(ctx context.Context, st *extendState) error {
	_, err := s.store.Place(ctx, store.PlaceRequest{VolumeID: st.VolumeID, FlowID: st.FlowID,
		Bytes: st.Request.Size, Pools: []store.PoolKey{{Backend: st.Backend, Pool: st.Pool}}}, s.decide(st.Request))
	return err
}

// extendNoValidBackend releases the claim and, when the pool had no room (failure set), puts
// the volume back to `available` with the scheduler's explanation (Cinder's
// extend-no-valid-backend).
func (s *Service) extendNoValidBackend(ctx context.Context, st *extendState, failure error) error {
	if err := s.store.ReleaseFlowClaims(ctx, st.FlowID); err != nil {
		return err
	}
	if failure == nil {
		return nil
	}
	return s.settleExtend(ctx, st, volume.ExtendNoValidBackend, "extend: "+failure.Error())
}

// extendOnBackend has the driver grow the volume.
func (s *Service) extendOnBackend(ctx context.Context, st *extendState) error {
	c, err := s.client(st.Backend)
	if err == nil {
		var v sdk.Volume
		v, err = c.ExtendVolume(ctx, sdk.VolumeRef{ID: st.VolumeID, Pool: st.Pool, ProviderData: st.ProviderData}, st.NewBytes)
		if err == nil && v.ProviderData != nil {
			st.ProviderData = v.ProviderData
		}
	}
	if be, ok := s.cfg.Backends.Backend(st.Backend); ok {
		be.Refresh()
	}
	if err != nil {
		return fmt.Errorf("extend volume %s on %s#%s: %w", st.VolumeID, st.Backend, st.Pool, err)
	}
	return nil
}

// extendFailed records a driver failure, or a row that could not be finished after the driver
// grew the volume (failure nil), as `error_extending` with the fault. The quota and the claim
// are given back by the earlier tasks' reverts: the row keeps the old size.
func (s *Service) extendFailed(ctx context.Context, st *extendState, failure error) error {
	msg := "the extend could not be finished"
	if failure != nil {
		msg = failure.Error()
	}
	return s.settleExtend(ctx, st, volume.ExtendFailed, msg)
}

// extendFinish writes the new size and `available`, committing the reserved quota. A volume
// already available at the new size (finished before a crash) is done.
func (s *Service) extendFinish(ctx context.Context, st *extendState) error {
	_, err := s.store.TransitionVolume(ctx, store.AllProjects(), st.VolumeID, volume.ExtendDone,
		store.VolumeChange{SizeBytes: st.NewBytes, FlowID: st.FlowID, ProviderData: st.ProviderData})
	var te *volume.TransitionError
	if errors.As(err, &te) {
		if v, verr := s.store.Volume(ctx, store.AllProjects(), st.VolumeID); verr == nil &&
			v.Status == volume.StatusAvailable && v.SizeBytes == st.NewBytes {
			return nil
		}
	}
	if err == nil {
		s.extendEvent(ctx, st, EventExtendEnd)
	}
	return err
}

func (s *Service) extendEvent(ctx context.Context, st *extendState, kind string) {
	s.notify(ctx, &managerState{VolumeID: st.VolumeID, ProjectID: st.ProjectID, Backend: st.Backend, Pool: st.Pool}, kind)
}
