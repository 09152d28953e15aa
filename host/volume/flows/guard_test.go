package flows

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kilnstorage/kiln/host/flow"
	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/store/storetest"
	"github.com/kilnstorage/kiln/host/volume"
)

// atTask is an observer that runs fn once, when a flow named flowName starts executing task.
type atTask struct {
	flowName, task string
	once           sync.Once
	fn             func()
}

func (h *atTask) FlowStarted(string, string)                              {}
func (h *atTask) FlowEnded(string, string, string, time.Duration)         {}
func (h *atTask) FlowRecovered(string, string, string)                    {}
func (h *atTask) TaskEnded(string, string, string, string, time.Duration) {}
func (h *atTask) TaskStarted(f, _, task string, reverting bool) {
	if f == h.flowName && task == h.task && !reverting {
		h.once.Do(h.fn)
	}
}

// TestDelete_secondDeleteRefused: while a cascade delete is deleting the volume's snapshots, a
// second delete of the volume (a retry, another client, an admin's force delete) and a delete
// of one of its snapshots are refused with 400, instead of taking the volume over; the
// cascade then deletes everything, and the books balance.
func TestDelete_secondDeleteRefused(t *testing.T) {
	st := storetest.Open(t)
	b := fakeBackend(t, st, "fake", "p", "10GiB")
	var svc *Service
	var v store.Volume
	var snap store.Snapshot
	var during []error
	h := &atTask{flowName: "volume_delete", task: "DeleteSnapshotsTask"}
	h.fn = func() {
		during = append(during,
			svc.DeleteVolume(t.Context(), store.ProjectScope("p"), "p", v.ID, DeleteOptions{}),
			svc.DeleteVolume(t.Context(), store.AllProjects(), "admin", v.ID, DeleteOptions{Force: true}),
			svc.DeleteSnapshot(t.Context(), store.ProjectScope("p"), "p", snap.ID))
	}
	svc = newService(t, st, BackendSet{"fake": b}, func(c *Config) { c.Observers = []flow.Observer{h} })
	v = available(t, svc, st)
	snap = snapshotOf(t, st, b, v)
	if err := svc.DeleteVolume(t.Context(), store.ProjectScope("p"), "p", v.ID, DeleteOptions{Cascade: true}); err != nil {
		t.Fatalf("cascade: %v", err)
	}
	if len(during) != 3 {
		t.Fatalf("the deletes during the cascade did not run: %v", during)
	}
	for i, err := range during {
		var te *volume.TransitionError
		if !errors.As(err, &te) || !strings.Contains(te.Reason, "another delete of it is running") {
			t.Errorf("delete %d during the cascade: %v, want refused", i, err)
		}
	}
	if _, err := st.Volume(t.Context(), store.AllProjects(), v.ID); !errors.Is(err, store.ErrNotFound) || b.holds(t, v.ID) || b.holds(t, snap.ID) {
		t.Errorf("after the cascade: %v, driver holds the volume %v, the snapshot %v", err, b.holds(t, v.ID), b.holds(t, snap.ID))
	}
	checkBooks(t, st)
}
