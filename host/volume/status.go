// Package volume is Kiln's block-storage domain: volume and snapshot statuses spelled as Cinder
// spells them, and the one table of allowed status transitions (the flows that move volumes
// along it are in host/volume/flows). It holds no database code: host/store applies each Transition as a compare-and-swap.
package volume

import (
	"fmt"
	"slices"
	"strings"
)

// Status is a volume's or a snapshot's status, spelled as Cinder spells it.
type Status string

// Volume statuses: Cinder's VolumeStatus.ALL in its order (the values os-reset_status accepts,
// less the ones ResetStatus forbids), then the statuses Cinder uses outside ALL.
const (
	StatusCreating         Status = "creating"
	StatusAvailable        Status = "available"
	StatusDeleting         Status = "deleting"
	StatusError            Status = "error"
	StatusErrorDeleting    Status = "error_deleting"
	StatusErrorManaging    Status = "error_managing"
	StatusManaging         Status = "managing"
	StatusAttaching        Status = "attaching"
	StatusInUse            Status = "in-use"
	StatusDetaching        Status = "detaching"
	StatusMaintenance      Status = "maintenance"
	StatusRestoringBackup  Status = "restoring-backup"
	StatusErrorRestoring   Status = "error_restoring"
	StatusReserved         Status = "reserved"
	StatusAwaitingTransfer Status = "awaiting-transfer"
	StatusBackingUp        Status = "backing-up"
	StatusErrorBackingUp   Status = "error_backing-up"
	StatusErrorExtending   Status = "error_extending"
	StatusDownloading      Status = "downloading"
	StatusUploading        Status = "uploading"
	StatusRetyping         Status = "retyping"
	StatusExtending        Status = "extending"

	StatusReverting             Status = "reverting"
	StatusUnmanaging            Status = "unmanaging"
	StatusErrorUnmanaging       Status = "error_unmanaging"
	StatusErrorManagingDeleting Status = "error_managing_deleting"
	// StatusDeleted is the status of a destroyed (soft-deleted) row, as Cinder's destroy sets it.
	StatusDeleted Status = "deleted"
)

// Snapshot statuses: Cinder's SnapshotStatus.ALL. Those spelled like a volume status are the
// same constants (StatusCreating, StatusAvailable, StatusDeleting, StatusDeleted, StatusError,
// StatusErrorDeleting, StatusUnmanaging, StatusBackingUp).
const (
	StatusUpdating  Status = "updating"
	StatusRestoring Status = "restoring"
)

// Kind says whether a status or transition belongs to volumes or to snapshots.
type Kind string

// Kinds.
const (
	KindVolume   Kind = "volume"
	KindSnapshot Kind = "snapshot"
)

// Statuses returns every status a live row of kind k can have, in Cinder's order: for volumes
// VolumeStatus.ALL plus reverting, unmanaging, error_unmanaging and error_managing_deleting;
// for snapshots SnapshotStatus.ALL less deleted. StatusDeleted is never live.
func Statuses(k Kind) []Status {
	if k == KindSnapshot {
		return []Status{StatusError, StatusAvailable, StatusCreating, StatusDeleting,
			StatusUpdating, StatusErrorDeleting, StatusUnmanaging, StatusBackingUp, StatusRestoring}
	}
	return []Status{StatusCreating, StatusAvailable, StatusDeleting, StatusError,
		StatusErrorDeleting, StatusErrorManaging, StatusManaging, StatusAttaching, StatusInUse,
		StatusDetaching, StatusMaintenance, StatusRestoringBackup, StatusErrorRestoring,
		StatusReserved, StatusAwaitingTransfer, StatusBackingUp, StatusErrorBackingUp,
		StatusErrorExtending, StatusDownloading, StatusUploading, StatusRetyping,
		StatusExtending, StatusReverting, StatusUnmanaging, StatusErrorUnmanaging,
		StatusErrorManagingDeleting}
}

// Transition is one named, allowed status change: from any status of From to To. A transition
// whose To is empty is a guard: it keeps the status and only requires it to be in From (for
// example, a volume must be available while a snapshot of it is created). The store applies
// a transition as one compare-and-swap: UPDATE … WHERE id = ? AND status IN (From).
type Transition struct {
	name string
	kind Kind
	from []Status
	to   Status
	// noSnapshots also requires the volume to have no live snapshot.
	noSnapshots bool
	// vacates: afterwards the volume occupies no capacity on any pool.
	vacates bool
}

// deletable is where a delete may begin (Cinder's API.delete without force).
var deletable = []Status{StatusAvailable, StatusError, StatusErrorRestoring, StatusErrorExtending,
	StatusErrorManaging}

// The transition table: every status change Kiln makes is one of these or a ResetStatus.
var (
	// CreateDone: the driver created the volume.
	CreateDone = volumeTransition("create-done", StatusAvailable, StatusCreating)
	// CreateFailed: scheduling found no pool, the driver failed without rescheduling, the
	// attempts ran out, or recovery found the create dead.
	CreateFailed = vacating(volumeTransition("create-failed", StatusError, StatusCreating))
	// Reschedule: another attempt on another pool; the status stays creating.
	Reschedule = vacating(volumeTransition("reschedule", StatusCreating, StatusCreating))
	// Discard: the API flow reverted its own row before any backend had it.
	Discard = vacating(volumeTransition("discard", StatusDeleted, StatusCreating))
	// DeleteBegin: a user deletes the volume; it must have no snapshots.
	DeleteBegin = Transition{name: "delete-begin", kind: KindVolume, from: deletable,
		to: StatusDeleting, noSnapshots: true}
	// DeleteCascadeBegin: a user deletes the volume with its snapshots (cascade); the store
	// moves every snapshot to deleting in the same transaction (store.BeginCascadeDelete).
	DeleteCascadeBegin = Transition{name: "delete-cascade-begin", kind: KindVolume, from: deletable,
		to: StatusDeleting}
	// DeleteFailed: the driver failed to delete.
	DeleteFailed = volumeTransition("delete-failed", StatusErrorDeleting, StatusDeleting)
	// DeleteBusy: the driver said the volume is busy; it is available again.
	DeleteBusy = volumeTransition("delete-busy", StatusAvailable, StatusDeleting)
	// Destroy: the driver deleted the volume; the row is soft-deleted.
	Destroy = vacating(volumeTransition("destroy", StatusDeleted, StatusDeleting))
	// ForceDelete: an admin deletes from any status; it must have no snapshots.
	ForceDelete = Transition{name: "force-delete", kind: KindVolume, from: Statuses(KindVolume),
		to: StatusDeleting, noSnapshots: true}
	// ExtendBegin: a user extends an available volume.
	ExtendBegin = volumeTransition("extend-begin", StatusExtending, StatusAvailable)
	// ExtendDone: the driver extended the volume.
	ExtendDone = volumeTransition("extend-done", StatusAvailable, StatusExtending)
	// ExtendFailed: the driver failed to extend.
	ExtendFailed = volumeTransition("extend-failed", StatusErrorExtending, StatusExtending)
	// ExtendNoValidBackend: the pool cannot hold the new size; the volume is as it was.
	ExtendNoValidBackend = volumeTransition("extend-no-valid-backend", StatusAvailable,
		StatusExtending)
	// Update guards a change of name, description or metadata: refused in maintenance.
	Update = volumeTransition("update", "", statusesExcept(KindVolume, StatusMaintenance)...)
	// SnapshotSource guards the creation of a snapshot of the volume.
	SnapshotSource = volumeTransition("snapshot-source", "", StatusAvailable)
	// SnapshotSourceForce guards a forced snapshot (or one with microversion 3.66+).
	SnapshotSourceForce = volumeTransition("snapshot-source-force", "", StatusAvailable,
		StatusInUse)
	// CloneSource guards the creation of a volume cloned from this one (Cinder's source_volid).
	CloneSource = volumeTransition("clone-source", "", StatusAvailable, StatusInUse)

	// SnapshotCreateDone: the driver created the snapshot.
	SnapshotCreateDone = snapshotTransition("snapshot-create-done", StatusAvailable, StatusCreating)
	// SnapshotCreateFailed: the driver failed to create the snapshot.
	SnapshotCreateFailed = snapshotTransition("snapshot-create-failed", StatusError, StatusCreating)
	// SnapshotDiscard: the snapshot flow reverted its own row.
	SnapshotDiscard = snapshotTransition("snapshot-discard", StatusDeleted, StatusCreating)
	// SnapshotDeleteBegin: a user deletes the snapshot.
	SnapshotDeleteBegin = snapshotTransition("snapshot-delete-begin", StatusDeleting,
		StatusAvailable, StatusError)
	// SnapshotDeleteFailed: the driver failed to delete the snapshot.
	SnapshotDeleteFailed = snapshotTransition("snapshot-delete-failed", StatusErrorDeleting,
		StatusDeleting)
	// SnapshotDestroy: the driver deleted the snapshot; the row is soft-deleted.
	SnapshotDestroy = snapshotTransition("snapshot-destroy", StatusDeleted, StatusDeleting)
	// SnapshotForceDelete: an admin deletes the snapshot from any status.
	SnapshotForceDelete = snapshotTransition("snapshot-force-delete", StatusDeleting,
		Statuses(KindSnapshot)...)
	// RestoreSource guards the creation of a volume from this snapshot.
	RestoreSource = snapshotTransition("restore-source", "", StatusAvailable)
)

// Transitions lists the table, volumes first.
func Transitions() []Transition {
	return []Transition{CreateDone, CreateFailed, Reschedule, Discard, DeleteBegin, DeleteCascadeBegin, DeleteFailed,
		DeleteBusy, Destroy, ForceDelete, ExtendBegin, ExtendDone, ExtendFailed,
		ExtendNoValidBackend, Update, SnapshotSource, SnapshotSourceForce, CloneSource,
		SnapshotCreateDone, SnapshotCreateFailed, SnapshotDiscard, SnapshotDeleteBegin,
		SnapshotDeleteFailed, SnapshotDestroy, SnapshotForceDelete, RestoreSource}
}

func volumeTransition(name string, to Status, from ...Status) Transition {
	return Transition{name: name, kind: KindVolume, from: from, to: to}
}

func vacating(t Transition) Transition {
	t.vacates = true
	return t
}

func snapshotTransition(name string, to Status, from ...Status) Transition {
	return Transition{name: name, kind: KindSnapshot, from: from, to: to}
}

func statusesExcept(k Kind, out ...Status) []Status {
	return slices.DeleteFunc(Statuses(k), func(s Status) bool { return slices.Contains(out, s) })
}

// Name is the transition's name, such as "delete-begin".
func (t Transition) Name() string { return t.name }

// Kind says whether t moves volumes or snapshots.
func (t Transition) Kind() Kind { return t.kind }

// From returns the statuses t may start from.
func (t Transition) From() []Status { return slices.Clone(t.from) }

// To is the status after t; empty for a guard.
func (t Transition) To() Status { return t.to }

// Guard reports whether t keeps the status and only checks it.
func (t Transition) Guard() bool { return t.to == "" }

// NoSnapshots reports whether t also requires the volume to have no live snapshot.
func (t Transition) NoSnapshots() bool { return t.noSnapshots }

// Vacates reports whether, after t, the volume occupies no capacity on any pool: the store
// releases its capacity claims in the same transaction (create-failed, reschedule, discard,
// destroy).
func (t Transition) Vacates() bool { return t.vacates }

// Allows reports whether t may start from s.
func (t Transition) Allows(s Status) bool { return slices.Contains(t.from, s) }

// Check returns nil when t may start from current, and a *TransitionError otherwise.
func (t Transition) Check(id string, current Status) error {
	if t.name == "" {
		return fmt.Errorf("%s %s: the zero Transition allows nothing", t.kind, id)
	}
	if t.Allows(current) {
		return nil
	}
	return &TransitionError{Kind: t.kind, ID: id, Transition: t.name, Current: current,
		Expected: t.From()}
}

// ResetStatus returns the admin's os-reset_status transition of a kind-k row to to: from any
// live status but the ones a running flow owns (creating, deleting and, for volumes,
// extending), to none of those either. For volumes, to must also not be error_deleting or
// detaching (what Cinder meant to forbid; a missing comma made it forbid only deleting), nor
// in-use, which needs attachments that Kiln does not have. For snapshots (Cinder accepts any
// SnapshotStatus, including deleted, which would leave a live row marked deleted) the same
// owned statuses are refused. Cinder allows resets into and out of creating and extending; in
// Kiln a flow always ends them, and a reset racing it would leave the row and the backend
// apart (an extend undone under a grown volume, a create redone empty by the next sweep).
func ResetStatus(k Kind, to Status) (Transition, error) {
	valid := Statuses(k)
	// Statuses a running flow owns: a flow moves a row into them and always out again, so
	// an admin may neither put a row there (no flow would ever take it out: a volume reset to
	// creating would even be created anew, empty, by the next start's sweep) nor take it out
	// from under the flow (which would then act on a row that says otherwise).
	owned := []Status{StatusCreating, StatusDeleting}
	if k == KindVolume {
		owned = append(owned, StatusExtending)
	}
	forbidden := append(slices.Clone(owned), StatusDeleting)
	if k == KindVolume {
		forbidden = append(forbidden, StatusErrorDeleting, StatusDetaching, StatusInUse)
	}
	if !slices.Contains(valid, to) || slices.Contains(forbidden, to) {
		return Transition{}, fmt.Errorf("invalid %s status %q for reset: %s", k, to,
			FormatExpected(statusesExcept(k, forbidden...)))
	}
	return Transition{name: "reset-status", kind: k, from: statusesExcept(k, owned...), to: to}, nil
}

// ParseStatus returns s as a status of kind k, or an error naming the valid ones.
func ParseStatus(k Kind, s string) (Status, error) {
	if st := Status(s); slices.Contains(Statuses(k), st) {
		return st, nil
	}
	return "", fmt.Errorf("invalid %s status %q: %s", k, s, FormatExpected(Statuses(k)))
}

// FormatExpected formats a status set for messages: "expected one of: available, error".
func FormatExpected(set []Status) string {
	names := make([]string, len(set))
	for i, s := range set {
		names[i] = string(s)
	}
	return "expected one of: " + strings.Join(names, ", ")
}

// TransitionError is a refused transition: the row was not in one of the expected statuses, or
// Reason says what else forbade it. The API answers it with Cinder's 400 InvalidVolume and its
// message.
type TransitionError struct {
	Kind       Kind
	ID         string
	Transition string
	Current    Status
	Expected   []Status
	// Reason, when set, is why a row in an expected status was refused, such as "it has
	// snapshots".
	Reason string
}

// Error reads "cannot <transition> <kind> <id>: status is <current>, expected one of: …", or
// gives the Reason.
func (e *TransitionError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("cannot %s %s %s: %s", e.Transition, e.Kind, e.ID, e.Reason)
	}
	return fmt.Sprintf("cannot %s %s %s: status is %s, %s", e.Transition, e.Kind, e.ID,
		e.Current, FormatExpected(e.Expected))
}
