package flows

import (
	"sync"
	"testing"
	"time"

	"github.com/kilnstorage/kiln/host/flow"
	"github.com/kilnstorage/kiln/host/store/storetest"
)

// taskNames records the tasks observers are told of.
type taskNames struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (o *taskNames) FlowStarted(string, string)                      {}
func (o *taskNames) TaskStarted(string, string, string, bool)        {}
func (o *taskNames) FlowEnded(string, string, string, time.Duration) {}
func (o *taskNames) FlowRecovered(string, string, string)            {}
func (o *taskNames) TaskEnded(flow, _, task, outcome string, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seen[flow+"/"+task+"/"+outcome] = true
}

// TestCreateVolume_observers: a create reports each of the 13 tasks, by Cinder's names.
func TestCreateVolume_observers(t *testing.T) {
	s := storetest.Open(t)
	obs := &taskNames{seen: map[string]bool{}}
	svc := newService(t, s, BackendSet{"a": fakeBackend(t, s, "a", "pa", "100GiB")},
		func(c *Config) { c.Observers = []flow.Observer{obs} })
	v, err := svc.CreateVolume(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	settle(t, s, v.ID)
	var want []string
	for _, f := range []struct {
		name  string
		tasks []string
	}{
		{"volume_create_api", []string{"ExtractVolumeRequestTask", "QuotaReserveTask", "EntryCreateTask", "QuotaCommitTask", "VolumeCastTask"}},
		{"volume_create_scheduler", []string{"ExtractSchedulerSpecTask", "ScheduleCreateVolumeTask"}},
		{"volume_create_manager", []string{"ExtractVolumeRefTask", "OnFailureRescheduleTask", "ExtractVolumeSpecTask",
			"NotifyVolumeActionTask", "CreateVolumeFromSpecTask", "CreateVolumeOnFinishTask"}},
	} {
		for _, task := range f.tasks {
			want = append(want, f.name+"/"+task+"/"+flow.Success)
		}
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	for _, w := range want {
		if !obs.seen[w] {
			t.Errorf("observers were not told %s", w)
		}
	}
}
