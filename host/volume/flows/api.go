package flows

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/kilnstorage/kiln/host/flow"
	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/volume"
)

// ErrInvalidRequest is a create request that cannot be served as asked (Cinder's 400
// InvalidInput family). An unknown volume type also wraps store.ErrNotFound.
var ErrInvalidRequest = errors.New("invalid volume request")

// Request is a user's create-volume request, as the API decoded it.
type Request struct {
	ProjectID, UserID string
	Name, Description string
	SizeGiB           int64
	// VolumeType is a type's name or ID; empty is the default type.
	VolumeType       string
	AvailabilityZone string
	Metadata         map[string]string
	// Sources; at most one may be set. SizeGiB may be 0 with a snapshot or a source volume:
	// the source's size. Images and backups are not supported yet.
	SnapshotID, SourceVolumeID, ImageID, BackupID string
}

// apiState is the volume_create_api flow's journaled state.
type apiState struct {
	FlowID  string
	Request Request
	// Set by ExtractVolumeRequestTask.
	VolumeID  string
	SizeBytes int64
	TypeID    string
	TypeName  string
	Zone      string
	// Volume is the row EntryCreateTask inserted.
	Volume store.Volume
	// fresh marks a flow this process started for a request, as opposed to one recovery
	// resumed from the journal (unexported, so never journaled): its volume ID is new, so
	// nothing of it can exist yet, and the tasks skip the reads that make a resumed run
	// idempotent.
	fresh bool
	// specs are the extra specs of the type ExtractVolumeRequestTask resolved, handed on to
	// the scheduler flow with the row (unexported too).
	specs map[string]string
}

func (s *Service) apiFlow() *flow.Flow[apiState] {
	return &flow.Flow[apiState]{Name: "volume_create_api", Tasks: []flow.Task[apiState]{
		{Name: "ExtractVolumeRequestTask", Execute: s.extractRequest, Resume: true},
		{Name: "QuotaReserveTask", Execute: s.reserveQuota, Revert: s.rollbackQuota, Resume: true},
		{Name: "EntryCreateTask", Execute: s.createEntry, Revert: s.discardEntry, Resume: true},
		// QuotaCommitTask has nothing left to do: store.CreateVolume committed the
		// reservation with the row. It stays, with an empty Execute (the engine observes only
		// tasks that have one), so that the metrics read as Cinder's.
		{Name: "QuotaCommitTask", Execute: nothing[apiState], Resume: true},
		{Name: "VolumeCastTask", Execute: s.castToScheduler, Resume: true},
	}}
}

// extractRequest validates the request and resolves its size, type and zone.
func (s *Service) extractRequest(ctx context.Context, st *apiState) error {
	r := st.Request
	if n := countSet(r.SnapshotID, r.SourceVolumeID, r.ImageID, r.BackupID); n > 1 {
		return fmt.Errorf("%w: at most one of snapshot, source volume, image and backup may be given", ErrInvalidRequest)
	}
	if r.ImageID != "" || r.BackupID != "" {
		return fmt.Errorf("%w: creating a volume from an image or a backup is not supported yet", ErrInvalidRequest)
	}
	if r.ProjectID == "" || r.UserID == "" {
		return fmt.Errorf("%w: a project and a user are required", ErrInvalidRequest)
	}
	src, err := s.resolveSource(ctx, r)
	if err != nil {
		return err
	}
	size, err := sourceSize(src, r.SizeGiB)
	if err != nil {
		return err
	}
	if size <= 0 {
		return fmt.Errorf("%w: size must be a positive number of GiB, got %d", ErrInvalidRequest, size)
	}
	if m := s.cfg.MaxSizeGiB; m > 0 && size > m {
		return fmt.Errorf("%w: size %d GiB exceeds the maximum of %d GiB", ErrInvalidRequest, size, m)
	}
	typeRef, zoneRef := r.VolumeType, r.AvailabilityZone
	if src != nil {
		typeRef, zoneRef = cmp.Or(typeRef, src.TypeID), cmp.Or(zoneRef, src.Zone)
	}
	vt, err := s.resolveType(ctx, typeRef)
	if err != nil {
		return err
	}
	if err := checkTypeSize(vt, size); err != nil {
		return err
	}
	zone, err := s.resolveZone(vt, zoneRef)
	if err != nil {
		return err
	}
	if src != nil && src.Zone != "" && zone != src.Zone {
		return fmt.Errorf("%w: availability zone %q differs from the %q of source %s %s", ErrInvalidRequest,
			zone, src.Zone, src.kind, src.id)
	}
	if st.VolumeID == "" {
		st.VolumeID = store.NewID()
	}
	st.Request.SizeGiB = size
	st.SizeBytes, st.TypeID, st.TypeName, st.Zone, st.specs = size*store.GiB, vt.ID, vt.Name, zone, vt.ExtraSpecs
	return nil
}

// nothing is the Execute of a task that only reverts or only marks a step.
func nothing[S any](context.Context, *S) error { return nil }

func countSet(ss ...string) int {
	n := 0
	for _, s := range ss {
		if s != "" {
			n++
		}
	}
	return n
}

// resolveType finds the type by ID, then by name; empty is the default type, found by its
// name at once (type IDs are generated, never a name).
func (s *Service) resolveType(ctx context.Context, ref string) (store.VolumeType, error) {
	var vt store.VolumeType
	var err error
	if ref == "" {
		ref = store.DefaultTypeName
		vt, err = s.store.VolumeTypeByName(ctx, ref)
	} else if vt, err = s.store.VolumeType(ctx, ref); errors.Is(err, store.ErrNotFound) {
		vt, err = s.store.VolumeTypeByName(ctx, ref)
	}
	if errors.Is(err, store.ErrNotFound) {
		return vt, fmt.Errorf("%w: volume type %q: %w", ErrInvalidRequest, ref, store.ErrNotFound)
	}
	if err != nil {
		return vt, fmt.Errorf("resolve volume type %q: %w", ref, err)
	}
	return vt, nil
}

// checkTypeSize applies the type's provisioning:min_vol_size and max_vol_size (GiB).
func checkTypeSize(vt store.VolumeType, size int64) error {
	bound := func(key string) int64 {
		n, err := strconv.ParseInt(strings.TrimSpace(vt.ExtraSpecs[key]), 10, 64)
		if err != nil {
			return 0
		}
		return n
	}
	if lo := bound("provisioning:min_vol_size"); lo > 0 && size < lo {
		return fmt.Errorf("%w: size %d GiB is below volume type %s's minimum of %d GiB", ErrInvalidRequest, size, vt.Name, lo)
	}
	if hi := bound("provisioning:max_vol_size"); hi > 0 && size > hi {
		return fmt.Errorf("%w: size %d GiB exceeds volume type %s's maximum of %d GiB", ErrInvalidRequest, size, vt.Name, hi)
	}
	return nil
}

// resolveZone checks the zone against the known zones, narrowed by the type's
// RESKEY:availability_zones; an empty zone is the default one.
func (s *Service) resolveZone(vt store.VolumeType, zone string) (string, error) {
	candidates := s.cfg.Zones
	if list := vt.ExtraSpecs["RESKEY:availability_zones"]; list != "" {
		var allowed []string
		for z := range strings.SplitSeq(list, ",") {
			if z = strings.TrimSpace(z); slices.Contains(s.cfg.Zones, z) {
				allowed = append(allowed, z)
			}
		}
		if len(allowed) == 0 {
			return "", fmt.Errorf("%w: volume type %s allows no known availability zone", ErrInvalidRequest, vt.Name)
		}
		candidates = allowed
	}
	if zone == "" {
		zone = s.cfg.DefaultZone
		if !slices.Contains(candidates, zone) {
			zone = candidates[0]
		}
	}
	if !slices.Contains(candidates, zone) {
		return "", fmt.Errorf("%w: availability zone %q is not one of %s", ErrInvalidRequest, zone, strings.Join(candidates, ", "))
	}
	return zone, nil
}

// reserveQuota refuses a volume over the project's quota, as Cinder's QuotaReserveTask does,
// but holds no reservation: EntryCreateTask's write follows at once, checks the quota again
// under the write lock and commits the usage with the row in one transaction
// (store.CheckQuota), so a reservation would protect nothing and cost three writes. Its revert
// still gives back what a flow journaled by an older Kiln reserved.
func (s *Service) reserveQuota(ctx context.Context, st *apiState) error {
	return s.store.CheckQuota(ctx, store.Reservation{FlowID: st.FlowID, ProjectID: st.Request.ProjectID,
		Deltas: store.VolumeDeltas(st.TypeName, st.SizeBytes), VolumeGigabytes: st.Request.SizeGiB})
}

func (s *Service) rollbackQuota(ctx context.Context, st *apiState, _ error) error {
	return s.store.RollbackReservations(ctx, st.FlowID)
}

// createEntry inserts the row in `creating`, committing the reservation with it. A row that
// exists already (a resumed flow) is taken as done.
func (s *Service) createEntry(ctx context.Context, st *apiState) error {
	if !st.fresh {
		if v, err := s.store.Volume(ctx, store.AllProjects(), st.VolumeID); err == nil {
			st.Volume = v
			return nil
		}
	}
	r := st.Request
	v, err := s.store.CreateVolume(ctx, store.Volume{ID: st.VolumeID, ProjectID: r.ProjectID,
		UserID: r.UserID, Name: r.Name, Description: r.Description, SizeBytes: st.SizeBytes,
		Status: volume.StatusCreating, AvailabilityZone: st.Zone, VolumeTypeID: st.TypeID,
		Metadata: r.Metadata, SnapshotID: r.SnapshotID, SourceVolumeID: r.SourceVolumeID}, st.FlowID)
	if err != nil {
		return err
	}
	st.Volume = v
	return nil
}

// discardEntry soft-deletes the row, giving its usage back; a row never inserted is fine.
func (s *Service) discardEntry(ctx context.Context, st *apiState, _ error) error {
	_, err := s.store.TransitionVolume(ctx, store.AllProjects(), st.VolumeID, volume.Discard, store.VolumeChange{})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// castToScheduler queues the scheduler flow and returns at once. A full or closed queue fails
// the task, and the flow reverts: no orphan `creating` row. The scheduler flow's ID derives
// from this flow's, so that a cast run again by recovery finds what the first one started.
func (s *Service) castToScheduler(ctx context.Context, st *apiState) error {
	id := st.FlowID + "-s"
	if !st.fresh {
		if cast, err := s.alreadyCast(ctx, st.VolumeID, id); err != nil || cast {
			return err
		}
	}
	var h *handoff
	if st.fresh { // every task ran in this process: the row and the type are as written and read
		h = &handoff{volume: st.Volume, specs: st.specs}
	}
	if err := s.castScheduleAs(id, st.VolumeID, retry{}, h, s.sched.TrySubmit); err != nil {
		return fmt.Errorf("cast volume %s to the scheduler: %w", st.VolumeID, err)
	}
	return nil
}

// alreadyCast reports whether a cast of the volume as scheduler flow id went further than
// the queue — its flow, or the manager flow it casts, is journaled, or the volume is no longer
// `creating` — in which case recovery, not a second cast, finishes it.
func (s *Service) alreadyCast(ctx context.Context, volumeID, id string) (bool, error) {
	held, err := s.journal.Has(ctx, id, managerFlowID(id))
	if err != nil || held {
		return held, err
	}
	v, err := s.store.Volume(ctx, store.AllProjects(), volumeID)
	if err != nil {
		return false, fmt.Errorf("cast volume %s: %w", volumeID, err)
	}
	return v.Status != volume.StatusCreating, nil
}
