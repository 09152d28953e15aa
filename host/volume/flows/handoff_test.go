package flows

import (
	"errors"
	"testing"

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
