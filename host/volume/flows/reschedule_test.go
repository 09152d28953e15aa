package flows

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kilnstorage/kiln/host/scheduler"
	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/store/storetest"
	"github.com/kilnstorage/kiln/host/volume"
	"github.com/kilnstorage/kiln/sdk"
	"github.com/kilnstorage/kiln/sdk/fake"
)

var noSpace = fake.Failure{Op: fake.OpCreateVolume, Code: "NoSpace", Mode: "always"}

// TestReschedule_toAnotherPool: the driver of the larger pool (chosen first) says NoSpace; the
// volume is rescheduled to the other pool, with the attempt and the error on its row.
func TestReschedule_toAnotherPool(t *testing.T) {
	s := storetest.Open(t)
	a := fakeBackend(t, s, "a", "pa", "200GiB", noSpace)
	b := fakeBackend(t, s, "b", "pb", "100GiB")
	svc := newService(t, s, BackendSet{"a": a, "b": b}, nil)
	v, err := svc.CreateVolume(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	v = settle(t, s, v.ID)
	if v.Status != volume.StatusAvailable || v.Backend != "b" || v.Pool != "pb" {
		t.Fatalf("volume = %+v, want available on b#pb", v)
	}
	if diff := cmp.Diff([]string{"a#pa", "b#pb"}, v.Attempted); diff != "" || v.Attempts != 2 {
		t.Errorf("attempts %d, attempted (-want +got):\n%s", v.Attempts, diff)
	}
	if !strings.Contains(v.Fault, "a#pa") {
		t.Errorf("fault %q does not keep the first attempt's error", v.Fault)
	}
	if _, err := a.c.GetVolume(t.Context(), sdk.VolumeRef{ID: v.ID, Pool: "pa"}); sdk.CodeOf(err) != sdk.NotFound {
		t.Errorf("the failed attempt left a volume on a#pa: %v", err)
	}
	claims, err := s.Claims(t.Context(), v.ID)
	if err != nil || len(claims) != 1 || claims[0].Key() != (store.PoolKey{Backend: "b", Pool: "pb"}) {
		t.Errorf("claims = %+v, %v; want one on b#pb", claims, err)
	}
	want := []string{EventCreateStart, EventCreateStart, EventCreateEnd}
	if diff := cmp.Diff(want, eventKinds(t, s, v.ID)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	checkBooks(t, s)
}

// TestReschedule_allPoolsFail: every pool fails; the volume ends in `error` with both
// attempts, the scheduler's explanation and the last error, and no claim.
func TestReschedule_allPoolsFail(t *testing.T) {
	s := storetest.Open(t)
	svc := newService(t, s, BackendSet{
		"a": fakeBackend(t, s, "a", "pa", "200GiB", noSpace),
		"b": fakeBackend(t, s, "b", "pb", "100GiB", noSpace),
	}, nil)
	v, err := svc.CreateVolume(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	v = settle(t, s, v.ID)
	if v.Status != volume.StatusError || v.Attempts != 2 {
		t.Fatalf("volume = %+v, want error after 2 attempts", v)
	}
	for _, want := range []string{"No valid pool", "IgnoreAttemptedHostsFilter", "last error", "b#pb"} {
		if !strings.Contains(v.Fault, want) {
			t.Errorf("fault %q does not say %q", v.Fault, want)
		}
	}
	if claims, _ := s.Claims(t.Context(), v.ID); len(claims) != 0 {
		t.Errorf("claims left on a failed volume: %+v", claims)
	}
	checkBooks(t, s)
}

// TestReschedule_maxAttempts: with three failing pools and two attempts allowed, the second
// failure ends the volume in `error` without a third try.
func TestReschedule_maxAttempts(t *testing.T) {
	s := storetest.Open(t)
	svc := newService(t, s, BackendSet{
		"a": fakeBackend(t, s, "a", "pa", "300GiB", noSpace),
		"b": fakeBackend(t, s, "b", "pb", "200GiB", noSpace),
		"c": fakeBackend(t, s, "c", "pc", "100GiB"),
	}, func(c *Config) { c.MaxAttempts = 2 })
	v, err := svc.CreateVolume(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	v = settle(t, s, v.ID)
	if v.Status != volume.StatusError || v.Attempts != 2 || !strings.Contains(v.Fault, "2 of 2 scheduling attempts") {
		t.Errorf("volume = %+v, want error after 2 of 2 attempts", v)
	}
	checkBooks(t, s)
}

// TestReschedule_notReschedulable: InvalidArgument is the user's or the type's fault; no other
// pool is tried.
func TestReschedule_notReschedulable(t *testing.T) {
	s := storetest.Open(t)
	invalid := fake.Failure{Op: fake.OpCreateVolume, Code: "InvalidArgument", Mode: "always"}
	svc := newService(t, s, BackendSet{
		"a": fakeBackend(t, s, "a", "pa", "200GiB", invalid),
		"b": fakeBackend(t, s, "b", "pb", "100GiB"),
	}, nil)
	v, err := svc.CreateVolume(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	v = settle(t, s, v.ID)
	if v.Status != volume.StatusError || v.Attempts != 1 || !strings.Contains(v.Fault, "not rescheduled") {
		t.Errorf("volume = %+v, want error after 1 attempt, not rescheduled", v)
	}
	checkBooks(t, s)
}

// TestSchedule_noValidPool: no pool can hold the volume; it goes to `error` with the
// per-filter explanation, never staying `creating`.
func TestSchedule_noValidPool(t *testing.T) {
	s := storetest.Open(t)
	svc := newService(t, s, BackendSet{"a": fakeBackend(t, s, "a", "pa", "100GiB")}, nil)
	r := req
	r.SizeGiB = 500
	v, err := svc.CreateVolume(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	v = settle(t, s, v.ID)
	if v.Status != volume.StatusError || !strings.Contains(v.Fault, "CapacityFilter 1→0") {
		t.Errorf("volume = %+v, want error with CapacityFilter's count", v)
	}
	checkBooks(t, s)
}

// TestReschedule_internalOnce: an Internal error is rescheduled once (after a delete on the
// old backend); a second one ends the volume in `error`.
func TestReschedule_internalOnce(t *testing.T) {
	internal := fake.Failure{Op: fake.OpCreateVolume, Code: "Internal", Mode: "always"}
	tests := []struct {
		name      string
		bFailures []fake.Failure
		want      volume.Status
		fault     string
	}{
		{"then success", nil, volume.StatusAvailable, "a#pa"},
		{"twice", []fake.Failure{internal}, volume.StatusError, "rescheduled once already"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := storetest.Open(t)
			svc := newService(t, s, BackendSet{
				"a": fakeBackend(t, s, "a", "pa", "300GiB", internal),
				"b": fakeBackend(t, s, "b", "pb", "200GiB", tt.bFailures...),
				"c": fakeBackend(t, s, "c", "pc", "100GiB"),
			}, nil)
			v, err := svc.CreateVolume(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			v = settle(t, s, v.ID)
			if v.Status != tt.want || v.Attempts != 2 || !strings.Contains(v.Fault, tt.fault) {
				t.Errorf("volume = %+v, want %s after 2 attempts, fault saying %q", v, tt.want, tt.fault)
			}
			checkBooks(t, s)
		})
	}
}

// TestReschedule_castRefused: when the reschedule cannot be sent, the volume goes to `error`
// with the attempt recorded, instead of staying `creating` (Cinder §1.4 step 4).
func TestReschedule_castRefused(t *testing.T) {
	s := storetest.Open(t)
	svc := newService(t, s, BackendSet{"a": fakeBackend(t, s, "a", "pa", "100GiB")}, nil)
	v := creatingVolume(t, s)
	if _, err := s.Place(t.Context(), store.PlaceRequest{VolumeID: v.ID, FlowID: "f", Bytes: v.SizeBytes},
		svc.decide(scheduler.Request{Size: v.SizeBytes})); err != nil {
		t.Fatal(err)
	}
	svc.sched.Close()
	st := &managerState{FlowID: "f-m", VolumeID: v.ID, Backend: "a", Pool: "pa",
		Failure: "no space on pa", Code: sdk.NoSpace}
	if err := svc.onFailureReschedule(t.Context(), st, nil); err != nil {
		t.Fatal(err)
	}
	v, err := s.Volume(t.Context(), store.AllProjects(), v.ID)
	if err != nil || v.Status != volume.StatusError || v.Attempts != 1 ||
		!strings.Contains(v.Fault, "could not be sent") || !strings.Contains(v.Fault, "no space on pa") {
		t.Errorf("volume = %+v, %v; want error with the attempt and why", v, err)
	}
	if claims, _ := s.Claims(t.Context(), v.ID); len(claims) != 0 {
		t.Errorf("claims left: %+v", claims)
	}
	checkBooks(t, s)
}

// TestReschedule_outcomeUnknown: after a deadline the volume may exist on the old backend; it
// is deleted there before another pool is tried, and when that delete fails the volume ends in
// `error` rather than risking a copy on two backends.
func TestReschedule_outcomeUnknown(t *testing.T) {
	deleteFails := fake.Failure{Op: fake.OpDeleteVolume, Code: "Unavailable", Mode: "always"}
	tests := []struct {
		name     string
		failures []fake.Failure
		want     volume.Status
	}{
		{"deleted, then rescheduled", nil, volume.StatusAvailable},
		// The driver restarting: the delete waits for it.
		{"backend back after a while", []fake.Failure{{Op: fake.OpDeleteVolume, Code: "Unavailable", Mode: "once"}},
			volume.StatusAvailable},
		{"delete fails", []fake.Failure{deleteFails}, volume.StatusError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := storetest.Open(t)
			a := fakeBackend(t, s, "a", "pa", "200GiB", tt.failures...)
			svc := newService(t, s, BackendSet{"a": a, "b": fakeBackend(t, s, "b", "pb", "100GiB")},
				func(c *Config) { c.CleanupWait = 300 * time.Millisecond })
			v := creatingVolume(t, s)
			if _, err := s.Place(t.Context(), store.PlaceRequest{VolumeID: v.ID, FlowID: "f", Bytes: v.SizeBytes},
				svc.decide(scheduler.Request{Size: v.SizeBytes})); err != nil {
				t.Fatal(err)
			}
			// The driver did create it, but the answer was lost.
			if _, err := a.c.CreateVolume(t.Context(), sdk.CreateVolumeRequest{ID: v.ID, Pool: "pa", SizeBytes: v.SizeBytes}); err != nil {
				t.Fatal(err)
			}
			st := &managerState{FlowID: "f-m", VolumeID: v.ID, Backend: "a", Pool: "pa",
				Failure: "context deadline exceeded", Code: sdk.DeadlineExceeded}
			if err := svc.onFailureReschedule(t.Context(), st, nil); err != nil {
				t.Fatal(err)
			}
			v = settle(t, s, v.ID)
			if v.Status != tt.want || v.Attempted[0] != "a#pa" {
				t.Errorf("volume = %+v, want %s after an attempt on a#pa", v, tt.want)
			}
			_, err := a.c.GetVolume(t.Context(), sdk.VolumeRef{ID: v.ID, Pool: "pa"})
			if gone := sdk.CodeOf(err) == sdk.NotFound; gone != (tt.want == volume.StatusAvailable) {
				t.Errorf("on the old backend after the reschedule decision: %v", err)
			}
			checkBooks(t, s)
		})
	}
}
