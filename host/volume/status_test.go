package volume

import (
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestStatusesSpelledAsCinder pins the spelling and order of Cinder's VolumeStatus.ALL and
// SnapshotStatus.ALL (reference/cinder.md §6).
func TestStatusesSpelledAsCinder(t *testing.T) {
	volumeAll := []Status{"creating", "available", "deleting", "error", "error_deleting",
		"error_managing", "managing", "attaching", "in-use", "detaching", "maintenance",
		"restoring-backup", "error_restoring", "reserved", "awaiting-transfer", "backing-up",
		"error_backing-up", "error_extending", "downloading", "uploading", "retyping", "extending",
		"reverting", "unmanaging", "error_unmanaging", "error_managing_deleting"}
	if diff := cmp.Diff(volumeAll, Statuses(KindVolume)); diff != "" {
		t.Errorf("volume statuses (-Cinder +Kiln):\n%s", diff)
	}
	snapshotAll := []Status{"error", "available", "creating", "deleting", "updating",
		"error_deleting", "unmanaging", "backing-up", "restoring"}
	if diff := cmp.Diff(snapshotAll, Statuses(KindSnapshot)); diff != "" {
		t.Errorf("snapshot statuses (-Cinder +Kiln):\n%s", diff)
	}
}

// TestTableIsWellFormed checks every transition: a unique name, a non-empty from set of live
// statuses of its kind, and a target that is a live status, deleted, or nothing (a guard).
func TestTableIsWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, tr := range Transitions() {
		if seen[tr.Name()] {
			t.Errorf("transition %q listed twice", tr.Name())
		}
		seen[tr.Name()] = true
		live := Statuses(tr.Kind())
		if len(tr.From()) == 0 {
			t.Errorf("%s: empty from set", tr.Name())
		}
		for _, s := range tr.From() {
			if !slices.Contains(live, s) {
				t.Errorf("%s: from %q is not a live %s status", tr.Name(), s, tr.Kind())
			}
		}
		if to := tr.To(); to != "" && to != StatusDeleted && !slices.Contains(live, to) {
			t.Errorf("%s: to %q is not a %s status", tr.Name(), to, tr.Kind())
		}
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		tr      Transition
		current Status
		wantErr string
	}{
		{DeleteBegin, StatusAvailable, ""},
		{DeleteBegin, StatusError, ""},
		{DeleteBegin, StatusErrorRestoring, ""},
		{DeleteBegin, StatusErrorExtending, ""},
		{DeleteBegin, StatusErrorManaging, ""},
		{DeleteBegin, StatusCreating, "cannot delete-begin volume v1: status is creating, " +
			"expected one of: available, error, error_restoring, error_extending, error_managing"},
		{DeleteBegin, StatusInUse, "cannot delete-begin volume v1: status is in-use, " +
			"expected one of: available, error, error_restoring, error_extending, error_managing"},
		{ExtendBegin, StatusAvailable, ""},
		{ExtendBegin, StatusInUse, "cannot extend-begin volume v1: status is in-use, expected one of: available"},
		{ExtendDone, StatusExtending, ""},
		{ForceDelete, StatusCreating, ""},
		{ForceDelete, StatusDeleting, ""},
		{Update, StatusMaintenance, "cannot update volume v1: status is maintenance, expected one of: creating, " +
			"available, deleting, error, error_deleting, error_managing, managing, attaching, in-use, detaching, " +
			"restoring-backup, error_restoring, reserved, awaiting-transfer, backing-up, error_backing-up, " +
			"error_extending, downloading, uploading, retyping, extending, reverting, unmanaging, " +
			"error_unmanaging, error_managing_deleting"},
		{SnapshotSource, StatusInUse, "cannot snapshot-source volume v1: status is in-use, expected one of: available"},
		{SnapshotSourceForce, StatusInUse, ""},
		{SnapshotDeleteBegin, StatusError, ""},
		{SnapshotDeleteBegin, StatusCreating, "cannot snapshot-delete-begin snapshot v1: status is creating, " +
			"expected one of: available, error"},
		{Destroy, StatusDeleted, "cannot destroy volume v1: status is deleted, expected one of: deleting"},
		{Transition{}, StatusAvailable, " v1: the zero Transition allows nothing"},
	}
	for _, tt := range tests {
		t.Run(tt.tr.Name()+"/"+string(tt.current), func(t *testing.T) {
			err := tt.tr.Check("v1", tt.current)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.wantErr {
				t.Fatalf("Check = %q, want %q", got, tt.wantErr)
			}
			var te *TransitionError
			if err != nil && tt.tr.Name() != "" {
				if !errors.As(err, &te) || te.Current != tt.current {
					t.Fatalf("want a *TransitionError with Current %q, got %#v", tt.current, err)
				}
			}
		})
	}
}

// TestResetStatus pins Cinder's intent for os-reset_status, without its missing-comma bug:
// deleting, error_deleting and detaching are refused.
func TestResetStatus(t *testing.T) {
	tests := []struct {
		kind Kind
		to   Status
		ok   bool
	}{
		{KindVolume, StatusAvailable, true},
		{KindVolume, StatusError, true},
		{KindVolume, StatusCreating, false}, // owned by a flow
		{KindVolume, StatusExtending, false},
		{KindVolume, StatusMaintenance, true},
		{KindVolume, StatusErrorExtending, true},
		{KindVolume, StatusDeleting, false},
		{KindVolume, StatusErrorDeleting, false},
		{KindVolume, StatusDetaching, false},
		{KindVolume, "error_deletingdetaching", false},
		{KindVolume, StatusInUse, false},
		{KindVolume, StatusDeleted, false},
		{KindVolume, "bogus", false},
		{KindSnapshot, StatusAvailable, true},
		{KindSnapshot, StatusErrorDeleting, true},
		{KindSnapshot, StatusUpdating, true},
		{KindSnapshot, StatusDeleting, false},
		{KindSnapshot, StatusCreating, false},
		{KindSnapshot, StatusDeleted, false},
		{KindSnapshot, StatusInUse, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind)+"/"+string(tt.to), func(t *testing.T) {
			tr, err := ResetStatus(tt.kind, tt.to)
			if (err == nil) != tt.ok {
				t.Fatalf("ResetStatus(%s, %q) error = %v, want ok=%v", tt.kind, tt.to, err, tt.ok)
			}
			if !tt.ok {
				return
			}
			if tr.To() != tt.to || tr.Kind() != tt.kind || tr.Name() != "reset-status" {
				t.Fatalf("got %s %s → %s", tr.Kind(), tr.Name(), tr.To())
			}
			owned := map[Status]bool{StatusCreating: true, StatusDeleting: true, StatusExtending: tt.kind == KindVolume}
			for _, s := range Statuses(tt.kind) {
				if err := tr.Check("x", s); (err == nil) == owned[s] {
					t.Errorf("reset from %s: %v, want refused only from a flow's status", s, err)
				}
			}
			if tr.Allows(StatusDeleted) {
				t.Error("reset allows a deleted row")
			}
		})
	}
}

func TestParseStatus(t *testing.T) {
	if s, err := ParseStatus(KindVolume, "in-use"); err != nil || s != StatusInUse {
		t.Fatalf("ParseStatus(in-use) = %q, %v", s, err)
	}
	if _, err := ParseStatus(KindSnapshot, "in-use"); err == nil {
		t.Fatal("in-use accepted for a snapshot")
	}
	_, err := ParseStatus(KindSnapshot, "nope")
	want := `invalid snapshot status "nope": expected one of: error, available, creating, deleting, ` +
		`updating, error_deleting, unmanaging, backing-up, restoring`
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %s", err, want)
	}
}

func TestFormatExpected(t *testing.T) {
	if got := FormatExpected([]Status{StatusAvailable, StatusError}); got != "expected one of: available, error" {
		t.Fatalf("FormatExpected = %q", got)
	}
}

func TestTransitionErrorReason(t *testing.T) {
	err := &TransitionError{Kind: KindVolume, ID: "v", Transition: "delete-begin",
		Current: StatusAvailable, Expected: DeleteBegin.From(), Reason: "it has snapshots"}
	if got := err.Error(); got != "cannot delete-begin volume v: it has snapshots" {
		t.Fatalf("Error = %q", got)
	}
}

func TestFromIsACopy(t *testing.T) {
	from := DeleteBegin.From()
	from[0] = StatusCreating
	if DeleteBegin.Allows(StatusCreating) {
		t.Fatal("From exposed the table")
	}
}

func TestVacates(t *testing.T) {
	var got []string
	for _, tr := range Transitions() {
		if tr.Vacates() {
			got = append(got, tr.Name())
		}
	}
	if diff := cmp.Diff([]string{"create-failed", "reschedule", "discard", "destroy"}, got); diff != "" {
		t.Errorf("vacating transitions (-want +got):\n%s", diff)
	}
}
