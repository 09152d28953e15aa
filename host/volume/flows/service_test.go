package flows

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/store/storetest"
	"github.com/kilnstorage/kiln/host/volume"
	"github.com/kilnstorage/kiln/sdk"
	"github.com/kilnstorage/kiln/sdk/fake"
)

// testBackend is a fake driver served in process, standing for a supervised backend.
type testBackend struct {
	c         *sdk.Client
	dir       string // the fake's state directory
	name      string // the backend's name, which names its state files
	refreshes atomic.Int64
}

func (b *testBackend) Client() (*sdk.Client, error) { return b.c, nil }
func (b *testBackend) Refresh()                     { b.refreshes.Add(1) }

// fakeBackend configures a fake driver called name with one pool of total GiB, the given
// failures injected, and stores its capacity report (zone nova).
func fakeBackend(t *testing.T, s *store.Store, name, pool, total string, failures ...fake.Failure) *testBackend {
	t.Helper()
	cfg := map[string]any{"pool": []map[string]any{{"name": pool, "total": total}}}
	var fs []map[string]any
	for _, f := range failures {
		fs = append(fs, map[string]any{"op": f.Op, "code": f.Code, "mode": f.Mode})
	}
	if fs != nil {
		cfg["failure"] = fs
	}
	return fakeBackendConfig(t, s, name, cfg)
}

// fakeBackendConfig configures a fake driver called name with cfg (its state_dir is added) and
// stores its capacity report (zone nova).
func fakeBackendConfig(t *testing.T, s *store.Store, name string, cfg map[string]any) *testBackend {
	t.Helper()
	dir := t.TempDir()
	cfg["state_dir"] = dir
	raw, _ := json.Marshal(cfg)
	c := sdk.Direct(fake.Plugin)
	ctx := t.Context()
	if _, err := c.Configure(ctx, sdk.ConfigureRequest{Backend: name, Config: raw}); err != nil {
		t.Fatalf("configure %s: %v", name, err)
	}
	capa, err := c.Capacity(ctx)
	if err != nil {
		t.Fatalf("capacity of %s: %v", name, err)
	}
	if _, err := s.ReportCapacity(ctx, store.BackendReport{Backend: name, AvailabilityZone: "nova", Capacity: capa}); err != nil {
		t.Fatalf("report %s: %v", name, err)
	}
	return &testBackend{c: c, dir: dir, name: name}
}

// newService returns a service over the store and backends, closed when the test ends.
func newService(t *testing.T, s *store.Store, backends BackendSet, tweak func(*Config)) *Service {
	t.Helper()
	cfg := Config{Store: s, Backends: backends}
	if tweak != nil {
		tweak(&cfg)
	}
	svc, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	return svc
}

var req = Request{ProjectID: "p", UserID: "u", Name: "v", SizeGiB: 1}

// settle waits until the volume has left `creating` and every flow has ended, and returns it.
func settle(t *testing.T, s *store.Store, id string) store.Volume {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		v, err := s.Volume(t.Context(), store.AllProjects(), id)
		left, jerr := s.Journal("").Unfinished(t.Context())
		if err == nil && jerr == nil && v.Status != volume.StatusCreating && len(left) == 0 {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("volume %s did not settle: %+v, %v; journal %d entries", id, v, err, len(left))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkBooks fails unless quotas equal the rows, claims equal the pools' totals, the journal
// is empty and no reservation is left.
func checkBooks(t *testing.T, s *store.Store) {
	t.Helper()
	rep, err := s.CheckQuotas(t.Context(), false)
	if err != nil || len(rep.Drifts) != 0 || len(rep.Orphans) != 0 {
		t.Errorf("CheckQuotas = %+v, %v; want no drift and no orphan", rep, err)
	}
	drift, err := s.RecountClaims(t.Context())
	if err != nil || len(drift) != 0 {
		t.Errorf("RecountClaims = %+v, %v; want no drift", drift, err)
	}
	u, err := s.QuotaUsage(t.Context(), "p")
	if err != nil || u[store.Volumes].Reserved != 0 || u[store.Gigabytes].Reserved != 0 || u[store.Snapshots].Reserved != 0 {
		t.Errorf("usage = %+v, %v; want nothing reserved", u, err)
	}
}

func eventKinds(t *testing.T, s *store.Store, id string) []string {
	t.Helper()
	evs, err := s.Events(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, e.Kind)
	}
	return out
}

func TestCreateVolume_available(t *testing.T) {
	s := storetest.Open(t)
	b := fakeBackend(t, s, "a", "pa", "100GiB")
	svc := newService(t, s, BackendSet{"a": b}, nil)
	v, err := svc.CreateVolume(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != volume.StatusCreating || v.AvailabilityZone != "nova" {
		t.Errorf("API flow returned %+v, want creating in nova", v)
	}
	v = settle(t, s, v.ID)
	if v.Status != volume.StatusAvailable || v.Backend != "a" || v.Pool != "pa" || v.Attempts != 1 {
		t.Errorf("volume = %+v, want available on a#pa after 1 attempt", v)
	}
	if _, err := b.c.GetVolume(t.Context(), sdk.VolumeRef{ID: v.ID, Pool: "pa", ProviderData: v.ProviderData}); err != nil {
		t.Errorf("the driver does not have the volume: %v", err)
	}
	if diff := cmp.Diff([]string{EventCreateStart, EventCreateEnd}, eventKinds(t, s, v.ID)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if b.refreshes.Load() == 0 {
		t.Error("the backend was not asked to refresh its capacity")
	}
	u, _ := s.QuotaUsage(t.Context(), "p")
	if u[store.Volumes].InUse != 1 || u[store.Gigabytes].InUse != 1 {
		t.Errorf("usage = %+v, want 1 volume of 1 GiB", u)
	}
	checkBooks(t, s)
}

func TestCreateVolume_badRequests(t *testing.T) {
	s := storetest.Open(t)
	svc := newService(t, s, BackendSet{"a": fakeBackend(t, s, "a", "pa", "100GiB")},
		func(c *Config) { c.MaxSizeGiB = 50; c.Zones = []string{"nova", "az2"} })
	tests := []struct {
		name string
		edit func(*Request)
		want string
	}{
		{"zero size", func(r *Request) { r.SizeGiB = 0 }, "positive"},
		{"too large", func(r *Request) { r.SizeGiB = 51 }, "exceeds the maximum"},
		{"unknown type", func(r *Request) { r.VolumeType = "gold" }, `volume type "gold"`},
		{"unknown zone", func(r *Request) { r.AvailabilityZone = "mars" }, "availability zone"},
		{"image source", func(r *Request) { r.ImageID = "i" }, "not supported"},
		{"two sources", func(r *Request) { r.SnapshotID, r.ImageID = "s", "i" }, "at most one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := req
			tt.edit(&r)
			_, err := svc.CreateVolume(t.Context(), r)
			if !errors.Is(err, ErrInvalidRequest) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("CreateVolume = %v, want ErrInvalidRequest saying %q", err, tt.want)
			}
		})
	}
	vols, _ := s.ListVolumes(t.Context(), store.AllProjects(), store.VolumeFilter{}, store.ListOptions{})
	if len(vols) != 0 {
		t.Errorf("%d volumes created by bad requests", len(vols))
	}
	checkBooks(t, s)
}

func TestCreateVolume_overQuotaCreatesNothing(t *testing.T) {
	s := storetest.Open(t)
	svc := newService(t, s, BackendSet{"a": fakeBackend(t, s, "a", "pa", "100GiB")}, nil)
	if err := s.SetQuotaLimits(t.Context(), "p", store.Limits{store.Gigabytes: 5}); err != nil {
		t.Fatal(err)
	}
	r := req
	r.SizeGiB = 6
	_, err := svc.CreateVolume(t.Context(), r)
	if !errors.Is(err, store.ErrOverQuota) {
		t.Fatalf("CreateVolume = %v, want over quota", err)
	}
	vols, _ := s.ListVolumes(t.Context(), store.AllProjects(), store.VolumeFilter{}, store.ListOptions{})
	if len(vols) != 0 {
		t.Errorf("volumes after an over-quota request: %+v", vols)
	}
	checkBooks(t, s)
}

// TestCreateVolume_queueFullLeavesNoRow: when the cast is refused, the API flow reverts the
// row and the quota (Cinder leaves an orphan `creating` row here).
func TestCreateVolume_queueFullLeavesNoRow(t *testing.T) {
	s := storetest.Open(t)
	busy := NewQueue(1, 0)
	release := make(chan struct{})
	started := make(chan struct{})
	if err := busy.Submit(t.Context(), func(context.Context) { close(started); <-release }); err != nil {
		t.Fatal(err)
	}
	<-started
	defer close(release)
	svc := newService(t, s, BackendSet{"a": fakeBackend(t, s, "a", "pa", "100GiB")},
		func(c *Config) { c.SchedulerQueue = busy })
	_, err := svc.CreateVolume(t.Context(), req)
	if !errors.Is(err, ErrQueueFull) {
		t.Fatalf("CreateVolume = %v, want ErrQueueFull", err)
	}
	vols, _ := s.ListVolumes(t.Context(), store.AllProjects(), store.VolumeFilter{}, store.ListOptions{})
	if len(vols) != 0 {
		t.Errorf("rows left by a refused cast: %+v", vols)
	}
	u, _ := s.QuotaUsage(t.Context(), "p")
	if u[store.Volumes].InUse != 0 || u[store.Gigabytes].InUse != 0 {
		t.Errorf("usage = %+v, want nothing in use", u)
	}
	if left, _ := s.Journal("").Unfinished(t.Context()); len(left) != 0 {
		t.Errorf("journal: %+v", left)
	}
	checkBooks(t, s)
}
