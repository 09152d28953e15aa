package flows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/volume"
	"github.com/kilnstorage/kiln/sdk"
)

// onFailureReschedule is OnFailureRescheduleTask's revert: the manager flow failed after the
// volume was placed. It records the attempt and the error on the volume and either sends the
// volume back to the scheduler, which will not choose a pool already tried, or ends it in
// `error` (Cinder §1.4, with its defects fixed: the attempt is written before the cast, a cast
// that cannot be sent ends in `error`, never in `creating`).
func (s *Service) onFailureReschedule(ctx context.Context, st *managerState, _ error) error {
	where := store.PoolKey{Backend: st.Backend, Pool: st.Pool}.String()
	why := s.noReschedule(st)
	if why == "" && needsCleanup(st) && !st.Cleaned {
		if err := s.cleanUp(ctx, st); err != nil {
			why = fmt.Sprintf("its outcome is unknown and the delete on %s failed: %v", where, err)
		}
	}
	v, err := s.store.Volume(ctx, store.AllProjects(), st.VolumeID)
	if errors.Is(err, store.ErrNotFound) || err == nil && v.Status != volume.StatusCreating {
		return nil // deleted or finished meanwhile: nothing to decide
	}
	if err != nil {
		return err
	}
	recorded := slices.Contains(v.Attempted, where) // a revert run again after a crash
	attempts := v.Attempts
	if !recorded {
		attempts++
	}
	if why == "" && attempts >= s.cfg.MaxAttempts {
		why = fmt.Sprintf("%d of %d scheduling attempts made", attempts, s.cfg.MaxAttempts)
	}
	if why != "" {
		if recorded {
			where = ""
		}
		return s.failVolume(ctx, st.VolumeID, where, failureText(st)+"; not rescheduled: "+why)
	}
	return s.reschedule(ctx, st, where, recorded)
}

// reschedule records the attempt (which releases the volume's claim) and casts the volume to
// the scheduler again; when the cast cannot be sent, the volume goes to `error`.
func (s *Service) reschedule(ctx context.Context, st *managerState, where string, recorded bool) error {
	if !recorded {
		fault := clip(failureText(st))
		_, err := s.store.TransitionVolume(ctx, store.AllProjects(), st.VolumeID, volume.Reschedule,
			store.VolumeChange{Fault: &fault, Attempt: where})
		var te *volume.TransitionError
		if errors.As(err, &te) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	r := st.Retry
	r.InternalSeen = r.InternalSeen || st.Code == sdk.Internal
	if err := s.castSchedule(st.VolumeID, r, s.sched.TrySubmit); err != nil {
		return s.failVolume(ctx, st.VolumeID, "", "the reschedule could not be sent: "+err.Error())
	}
	s.log.Info("volume rescheduled", "volume_id", st.VolumeID, "backend", st.Backend, "pool", st.Pool,
		"error", st.Failure)
	return nil
}

// noReschedule says why the failure must not be rescheduled, or "" when it may be: the codes
// docs/driver-protocol.md marks reschedulable, Internal only once.
func (s *Service) noReschedule(st *managerState) string {
	if st.Failure == "" {
		return "" // interrupted: the outcome is unknown, handled as a deadline
	}
	switch st.Code {
	case sdk.NoSpace, sdk.OutOfRange, sdk.Unavailable, sdk.PermissionDenied,
		sdk.DeadlineExceeded, sdk.Canceled:
		return ""
	case sdk.Internal:
		if st.Retry.InternalSeen {
			return "an internal error was rescheduled once already"
		}
		return ""
	}
	return fmt.Sprintf("%s errors are not rescheduled", st.Code)
}

// cleanUp deletes what a create whose outcome is unknown may have left on its backend. When
// the backend is down — typically its driver died during the create and is being restarted —
// it waits for it, up to CleanupWait, rather than give up a volume that another pool could
// take.
func (s *Service) cleanUp(ctx context.Context, st *managerState) error {
	deadline := time.Now().Add(s.cfg.cleanupWait())
	pause := 50 * time.Millisecond
	for {
		err := s.deleteFromBackend(ctx, st, nil)
		if err == nil || sdk.CodeOf(err) != sdk.Unavailable || time.Now().Add(pause).After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(pause):
		}
		pause = min(2*pause, time.Second)
	}
}

// needsCleanup reports a failure whose outcome on the backend is unknown: the volume may
// exist there, so it is deleted (idempotently) before another pool is tried.
func needsCleanup(st *managerState) bool {
	switch {
	case st.Failure == "", st.Exited:
		return true
	}
	return st.Code == sdk.Internal || st.Code == sdk.DeadlineExceeded || st.Code == sdk.Canceled
}

func failureText(st *managerState) string {
	if st.Failure == "" {
		return "the create was interrupted"
	}
	return st.Failure
}
