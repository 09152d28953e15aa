package flows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kilnstorage/kiln/host/flow"
	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/store/storetest"
	"github.com/kilnstorage/kiln/host/volume"
)

// TestHandoff_usedAsHanded runs the scheduler's and the manager's extract tasks on a volume
// that is in no table: handed the row and its type's specs, they build their requests from
// them without a read; handed nothing (a resumed or rescheduled run), they read the row, and
// here fail for want of it.
func TestHandoff_usedAsHanded(t *testing.T) {
	s := storetest.Open(t)
	svc := newService(t, s, BackendSet{}, nil)
	h := &handoff{volume: store.Volume{ID: "v-handed", ProjectID: "p", Name: "n", SizeBytes: 3 * store.GiB,
		Status: volume.StatusCreating, AvailabilityZone: "nova", VolumeTypeID: "t-gone"},
		specs: map[string]string{"provisioning:type": "thin", "k": "v"}}

	st := &scheduleState{FlowID: "f", VolumeID: "v-handed", handed: h}
	if err := svc.extractSchedulerSpec(t.Context(), st); err != nil {
		t.Fatalf("scheduler, handed: %v", err)
	}
	if st.Request.Size != 3*store.GiB || st.Request.Zone != "nova" || st.Request.ExtraSpecs["k"] != "v" {
		t.Errorf("scheduler request = %+v, want the handed size, zone and specs", st.Request)
	}
	ms := &managerState{FlowID: "f-m", VolumeID: "v-handed", Pool: "pa", handed: st.handed}
	if err := svc.extractVolumeRef(t.Context(), ms); err != nil {
		t.Fatalf("manager, handed: %v", err)
	}
	if err := svc.extractVolumeSpec(t.Context(), ms); err != nil {
		t.Fatalf("manager spec, handed: %v", err)
	}
	if ms.ProjectID != "p" || ms.Spec.SizeBytes != 3*store.GiB || ms.Spec.Thin == nil || !*ms.Spec.Thin {
		t.Errorf("manager spec = %+v (project %q), want the handed size, project and a thin volume", ms.Spec, ms.ProjectID)
	}

	if err := svc.extractSchedulerSpec(t.Context(), &scheduleState{FlowID: "g", VolumeID: "v-handed"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("scheduler, nothing handed: %v, want the read's not found", err)
	}
	if err := svc.extractVolumeRef(t.Context(), &managerState{FlowID: "g-m", VolumeID: "v-handed"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("manager, nothing handed: %v, want the read's not found", err)
	}
}

// forceDeleter force-deletes every volume of project p when a given task of a given flow
// starts: an admin's os-force_delete while the volume waits in a queue.
type forceDeleter struct {
	taskNames
	flow, task string
	svc        *Service
	s          *store.Store
	t          *testing.T
}

func (o *forceDeleter) TaskStarted(flow, _, task string, _ bool) {
	if flow != o.flow || task != o.task {
		return
	}
	vs, err := o.s.ListVolumes(context.Background(), store.AllProjects(), store.VolumeFilter{}, store.ListOptions{})
	if err != nil {
		o.t.Error(err)
	}
	for _, v := range vs {
		if err := o.svc.DeleteVolume(context.Background(), store.AllProjects(), "p", v.ID, DeleteOptions{Force: true}); err != nil {
			o.t.Errorf("force-delete %s: %v", v.ID, err)
		}
	}
}

// TestHandoff_forceDeletedWhileQueued: a volume force-deleted while it waits for the scheduler
// or for the volume manager ends deleted, with no claim left on any pool and nothing on the
// backend, though both flows were handed the row as it was before.
func TestHandoff_forceDeletedWhileQueued(t *testing.T) {
	for _, at := range []struct{ flow, task string }{
		{"volume_create_scheduler", "ExtractSchedulerSpecTask"},
		{"volume_create_manager", "ExtractVolumeRefTask"},
	} {
		t.Run(at.task, func(t *testing.T) {
			s := storetest.Open(t)
			b := fakeBackend(t, s, "a", "pa", "100GiB")
			obs := &forceDeleter{taskNames: taskNames{seen: map[string]bool{}}, flow: at.flow, task: at.task, s: s, t: t}
			svc := newService(t, s, BackendSet{"a": b}, func(c *Config) { c.Observers = []flow.Observer{obs} })
			obs.svc = svc
			v, err := svc.CreateVolume(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(20 * time.Second)
			for {
				_, err := s.Volume(t.Context(), store.AllProjects(), v.ID)
				left, jerr := s.Journal("").Unfinished(t.Context())
				if errors.Is(err, store.ErrNotFound) && jerr == nil && len(left) == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("volume %s not gone, or flows left: %v; %d journal entries", v.ID, err, len(left))
				}
				time.Sleep(5 * time.Millisecond)
			}
			if b.holds(t, v.ID) {
				t.Error("the backend holds the volume of a deleted row")
			}
			pools, err := s.Pools(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range pools {
				if p.ClaimedBytes != 0 || p.ClaimedVolumes != 0 {
					t.Errorf("pool %s keeps a claim of %d bytes, %d volumes for a deleted volume",
						p.Key(), p.ClaimedBytes, p.ClaimedVolumes)
				}
			}
			checkBooks(t, s)
		})
	}
}
