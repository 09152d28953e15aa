package api

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/volume/flows"
	"github.com/kilnstorage/kiln/sdk"
	"github.com/kilnstorage/kiln/sdk/fake"
)

// directBackend is a fake driver served in process.
type directBackend struct{ c *sdk.Client }

func (b directBackend) Client() (*sdk.Client, error) { return b.c, nil }
func (b directBackend) Refresh()                     {}

// volumesAPI is the API with the create flows over a real store and a fake backend "fake" with
// one 10 GiB pool.
func volumesAPI(t *testing.T) (*Server, *store.Store) {
	t.Helper()
	s, st := resources(t)
	raw, _ := json.Marshal(map[string]any{"state_dir": t.TempDir(), "pool": []map[string]any{{"name": "p", "total": "10GiB"}}})
	c := sdk.Direct(fake.Plugin)
	if _, err := c.Configure(t.Context(), sdk.ConfigureRequest{Backend: "fake", Config: raw}); err != nil {
		t.Fatal(err)
	}
	capa, _ := c.Capacity(t.Context())
	if _, err := st.ReportCapacity(t.Context(), store.BackendReport{Backend: "fake", AvailabilityZone: "nova", Capacity: capa}); err != nil {
		t.Fatal(err)
	}
	svc, err := flows.New(flows.Config{Store: st, Backends: flows.BackendSet{"fake": directBackend{c}}, Zones: []string{"nova"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	s.opts.Volumes = svc
	s.volumeRoutes()
	return s, st
}

func waitStatus(t *testing.T, s *Server, token, path, want string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, body := call(t, s, token, "GET", path, "")
		v, _ := body["volume"].(map[string]any)
		if v != nil && v["status"] == want {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v, want status %s", path, body, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestVolumes(t *testing.T) {
	s, _ := volumesAPI(t)
	code, body := call(t, s, "alice", "POST", "/v3/p1/volumes", `{"volume": {"size": 2, "name": "data", "metadata": {"k": "v"}}}`)
	if code != 202 {
		t.Fatalf("create: %d %v", code, body)
	}
	id := body["volume"].(map[string]any)["id"].(string)
	v := waitStatus(t, s, "alice", "/v3/p1/volumes/"+id, "available")
	if v["size"] != float64(2) || v["name"] != "data" || v["volume_type"] != store.DefaultTypeName || v["os-vol-host-attr:host"] != nil {
		t.Errorf("volume as a member sees it: %v", v)
	}
	_, body = call(t, s, "root", "GET", "/v3/ops/volumes/detail?all_tenants=1", "")
	admin := body["volumes"].([]any)[0].(map[string]any)
	if admin["os-vol-host-attr:host"] != "fake#p" {
		t.Errorf("admin view: %v", admin)
	}
	if code, _ := call(t, s, "root", "GET", "/v3/ops/volumes/"+id, ""); code != 404 {
		t.Errorf("another project's volume without all_tenants: %d", code)
	}
	// The end event is staged with the status change: it may land a moment after it.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, body = call(t, s, "alice", "GET", "/v3/p1/volumes/"+id+"/events", ""); len(body["events"].([]any)) >= 2 {
			break
		}
	}
	if ev := body["events"].([]any); len(ev) != 2 || ev[0].(map[string]any)["event_type"] != "volume.create.start" ||
		ev[1].(map[string]any)["event_type"] != "volume.create.end" {
		t.Errorf("events: %v", body)
	}
	if code, _ := call(t, s, "root", "GET", "/v3/ops/volumes/"+id+"/events", ""); code != 404 {
		t.Errorf("another project's volume events without all_tenants: %d", code)
	}
	code, body = call(t, s, "alice", "PUT", "/v3/p1/volumes/"+id, `{"volume": {"name": "renamed"}}`)
	if code != 200 || body["volume"].(map[string]any)["name"] != "renamed" {
		t.Errorf("update: %d %v", code, body)
	}
	_, body = call(t, s, "alice", "GET", "/v3/p1/volumes?limit=1", "")
	if len(body["volumes"].([]any)) != 1 || body["volumes_links"] == nil {
		t.Errorf("list with limit: %v", body)
	}
	if code, body := call(t, s, "alice", "DELETE", "/v3/p1/volumes/"+id, ""); code != 202 {
		t.Errorf("delete: %d %v", code, body)
	}
	if code, _ := call(t, s, "alice", "GET", "/v3/p1/volumes/"+id, ""); code != 404 {
		t.Errorf("show after delete: %d", code)
	}
	if code, _ := call(t, s, "alice", "DELETE", "/v3/p1/volumes/"+id, ""); code != 404 {
		t.Errorf("delete again: %d", code)
	}
	_, body = call(t, s, "alice", "GET", "/v3/p1/os-quota-sets/p1?usage=true", "")
	if in := body["quota_set"].(map[string]any)["volumes"].(map[string]any)["in_use"]; in != float64(0) {
		t.Errorf("volumes in use after the delete: %v", in)
	}
}

func TestVolumes_badInputChangesNothing(t *testing.T) {
	s, st := volumesAPI(t)
	for _, c := range []struct {
		body string
		code int
		msg  string
	}{
		{`{"volume": {"size": 0}}`, 400, "Size must be an integer from 1 to 2147483647"},
		{`{"volume": {"size": -1}}`, 400, "from 1 to"},
		{`{"volume": {"size": 8589934592}}`, 400, "from 1 to"},
		{`{"volume": {"size": "lots"}}`, 400, ""},
		{`{"volume": {}}`, 400, "size is required"},
		{`{"volume": {"size": 1, "colour": "red"}}`, 400, "colour"},
		{`{"volume": {"size": 1, "name": "` + strings.Repeat("n", 256) + `"}}`, 400, "longer than 255"},
		{`{"volume": {"size": 1, "metadata": {"": "x"}}}`, 400, "metadata"},
		{`{"volume": {"size": 1, "volume_type": "nope"}}`, 404, ""},
		{`{"volume": {"size": 1, "availability_zone": "mars"}}`, 400, "mars"},
		{`{"volume": {"size": 1, "snapshot_id": "x"}}`, 404, "Snapshot x could not be found."},
		{`{"volume": {"source_volid": "x"}}`, 404, "Volume x could not be found."},
		{`{"volume": {"size": 1, "imageRef": "x"}}`, 400, "not supported"},
		{`{"volume": {"size": 11}}`, 202, ""}, // placed but no pool fits: error, not a refusal
		{`{"volume": {"size": 1001}}`, 413, "gigabytes"},
	} {
		code, body := call(t, s, "alice", "POST", "/v3/p1/volumes", c.body)
		if code != c.code || !strings.Contains(strings.ToLower(toJSON(body)), strings.ToLower(c.msg)) {
			t.Errorf("%s: %d %v, want %d with %q", c.body, code, body, c.code, c.msg)
		}
	}
	vols, _ := st.ListVolumes(t.Context(), store.AllProjects(), store.VolumeFilter{}, store.ListOptions{})
	if len(vols) != 1 {
		t.Errorf("%d volume rows after the refusals, want only the one that failed scheduling", len(vols))
	}
	usage, _ := st.QuotaUsage(t.Context(), "p1")
	if u := usage[store.Volumes]; u.InUse != 1 || u.Reserved != 0 {
		t.Errorf("volumes quota after the refusals: %+v, want the one row in use and nothing reserved", u)
	}
	v := waitStatus(t, s, "root", "/v3/ops/volumes/"+vols[0].ID+"?all_tenants=1", "error")
	if !strings.Contains(v["os-vol-kiln-attr:fault"].(string), "CapacityFilter") {
		t.Errorf("fault of an unplaceable volume: %v", v["os-vol-kiln-attr:fault"])
	}
}

func toJSON(v any) string {
	raw, _ := json.Marshal(v)
	return string(raw)
}
