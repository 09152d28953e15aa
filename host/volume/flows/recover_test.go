package flows

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/kilnstorage/kiln/host/flow"
	"github.com/kilnstorage/kiln/host/scheduler"
	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/store/storetest"
	"github.com/kilnstorage/kiln/host/volume"
	"github.com/kilnstorage/kiln/sdk"
)

// journal writes the entry a host that died while running task of flow name would have left.
func journal(t *testing.T, s *store.Store, id, name string, task int, state any) {
	t.Helper()
	raw, err := json.Marshal(state)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Journal("").Save(t.Context(), flow.Entry{ID: id, Flow: name, Task: task,
		Phase: flow.Executing, Failed: -1, State: raw})
	if err != nil {
		t.Fatal(err)
	}
}

// creatingVolume inserts a 1 GiB volume in `creating`, as the API flow leaves it.
func creatingVolume(t *testing.T, s *store.Store) store.Volume {
	t.Helper()
	v, err := s.CreateVolume(t.Context(), store.Volume{ProjectID: "p", UserID: "u", SizeBytes: store.GiB,
		AvailabilityZone: "nova"}, "")
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestRecover: a host died in the middle of each flow; recovery resumes each to `available`.
func TestRecover(t *testing.T) {
	tests := []struct {
		name  string
		crash func(t *testing.T, s *store.Store, svc *Service) string // returns the volume ID
	}{
		{"mid-manager, while the driver was creating", func(t *testing.T, s *store.Store, svc *Service) string {
			v := creatingVolume(t, s)
			c, err := s.Place(t.Context(), store.PlaceRequest{VolumeID: v.ID, FlowID: "f1", Bytes: v.SizeBytes},
				svc.decide(scheduler.Request{Size: v.SizeBytes}))
			if err != nil {
				t.Fatal(err)
			}
			journal(t, s, "f1-m", "volume_create_manager", 4, managerState{FlowID: "f1-m", VolumeID: v.ID,
				Backend: c.Backend, Pool: c.Pool, ProjectID: "p",
				Spec: sdk.CreateVolumeRequest{ID: v.ID, SizeBytes: v.SizeBytes, Pool: c.Pool}})
			return v.ID
		}},
		{"mid-scheduler", func(t *testing.T, s *store.Store, _ *Service) string {
			v := creatingVolume(t, s)
			journal(t, s, "f2", "volume_create_scheduler", 1, scheduleState{FlowID: "f2", VolumeID: v.ID,
				Request: scheduler.Request{Size: v.SizeBytes}})
			return v.ID
		}},
		{"mid-API, before the row", func(t *testing.T, s *store.Store, _ *Service) string {
			journal(t, s, "f3", "volume_create_api", 2, apiState{FlowID: "f3", Request: req, VolumeID: "v3",
				SizeBytes: store.GiB, TypeName: store.DefaultTypeName, Zone: "nova"})
			return "v3"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := storetest.Open(t)
			svc := newService(t, s, BackendSet{"a": fakeBackend(t, s, "a", "pa", "100GiB")}, nil)
			id := tt.crash(t, s, svc)
			got, err := svc.Recover(t.Context())
			if err != nil || len(got) != 1 || got[0].Action != flow.Resumed || got[0].Err != nil {
				t.Fatalf("Recover = %+v, %v; want one flow resumed", got, err)
			}
			v := settle(t, s, id)
			if v.Status != volume.StatusAvailable || v.Backend != "a" {
				t.Errorf("volume = %+v, want available on a", v)
			}
			checkBooks(t, s)
		})
	}
}

// TestRecover_sweep: `creating` volumes that no flow holds (their casts died in memory) are
// cast again and become available; while the journal holds an entry recovery cannot handle,
// nothing is swept.
func TestRecover_sweep(t *testing.T) {
	s := storetest.Open(t)
	svc := newService(t, s, BackendSet{"a": fakeBackend(t, s, "a", "pa", "100GiB")}, nil)
	lost, held := creatingVolume(t, s), creatingVolume(t, s)
	journal(t, s, "odd", "elsewhere", 0, managerState{FlowID: "odd", VolumeID: held.ID})
	if got, err := svc.journaled(t.Context()); err != nil || !got[held.ID] || got[lost.ID] {
		t.Errorf("journaled = %v, %v; want only %s", got, err, held.ID)
	}
	if got, err := svc.Recover(t.Context()); err == nil || len(got) != 0 {
		t.Fatalf("Recover = %+v, %v; want nothing done and an error for the unknown flow", got, err)
	}
	if err := s.Journal("").Finish(t.Context(), "odd"); err != nil {
		t.Fatal(err)
	}
	got, err := svc.Recover(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	recast := map[string]bool{}
	for _, r := range got {
		if r.Action == Recast && r.Err == nil {
			recast[r.ID] = true
		}
	}
	if len(recast) != 2 || !recast[lost.ID] || !recast[held.ID] {
		t.Errorf("Recover = %+v, want both volumes recast", got)
	}
	for _, id := range []string{lost.ID, held.ID} {
		if v := settle(t, s, id); v.Status != volume.StatusAvailable {
			t.Errorf("swept volume = %+v, want available", v)
		}
	}
	checkBooks(t, s)
}

// TestRecover_castOnce: the host died after the API flow cast the volume and the scheduler
// flow journaled its first boundary, but before the API flow's end was durable. Recovery runs
// the cast again; it must find the scheduler flow it started and leave the volume to it: one
// placement, one claim, one driver volume.
func TestRecover_castOnce(t *testing.T) {
	s := storetest.Open(t)
	a := fakeBackend(t, s, "a", "pa", "100GiB")
	svc := newService(t, s, BackendSet{"a": a}, nil)
	v := creatingVolume(t, s)
	journal(t, s, "api-1", "volume_create_api", 4, apiState{FlowID: "api-1", Request: req, VolumeID: v.ID,
		SizeBytes: v.SizeBytes, TypeName: store.DefaultTypeName, Zone: "nova"})
	journal(t, s, "api-1-s", "volume_create_scheduler", 1, scheduleState{FlowID: "api-1-s", VolumeID: v.ID,
		Request: scheduler.Request{Size: v.SizeBytes}})
	got, err := svc.Recover(t.Context())
	if err != nil || len(got) != 2 {
		t.Fatalf("Recover = %+v, %v; want two flows recovered", got, err)
	}
	if v := settle(t, s, v.ID); v.Status != volume.StatusAvailable || v.Attempts != 1 {
		t.Errorf("volume = %+v, want available at the first attempt", v)
	}
	if held, err := svc.journal.Has(t.Context(), "api-1-s", "api-1-s-m"); err != nil || held {
		t.Errorf("journal still holds the flows: %v, %v", held, err)
	}
	time.Sleep(50 * time.Millisecond) // a second cast, if any, would have run by now
	if err := svc.journal.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	events, err := s.Events(t.Context(), v.ID)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range events {
		kinds = append(kinds, e.Kind)
	}
	if want := []string{EventCreateStart, EventCreateEnd}; !slices.Equal(kinds, want) {
		t.Errorf("events %v, want %v: the volume was created once", kinds, want)
	}
	checkBooks(t, s)
}
