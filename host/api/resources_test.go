package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/store/storetest"
	"github.com/kilnstorage/kiln/sdk"
)

// resources is an API over a real SQLite store, with an admin (token "root") and a member of
// project p1 (token "alice").
func resources(t *testing.T) (*Server, *store.Store) {
	t.Helper()
	st := storetest.Open(t)
	path := filepath.Join(t.TempDir(), "tokens.json")
	_ = os.WriteFile(path, []byte(`{"root": {"user": "root", "project": "ops", "roles": ["admin"]},
		"alice": {"user": "alice", "project": "p1", "roles": ["member"]}}`), 0o600)
	tf, err := LoadTokenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return New(Options{Auth: tf, Store: st, Zones: []string{"nova", "az2", "nova"}}), st
}

// call sends a request as token and decodes the JSON answer.
func call(t *testing.T, h http.Handler, token, method, path, body string) (int, map[string]any) {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("X-Auth-Token", token)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var out map[string]any
	if w.Body.Len() > 0 {
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s %s: not JSON: %s", method, path, w.Body)
		}
	}
	return w.Code, out
}

func TestTypes(t *testing.T) {
	s, _ := resources(t)
	code, body := call(t, s, "root", "POST", "/v3/ops/types", `{"volume_type": {"name": "gold", "description": "fast", "extra_specs": {"volume_backend_name": "lvm"}}}`)
	if code != 200 {
		t.Fatalf("create: %d %v", code, body)
	}
	id := body["volume_type"].(map[string]any)["id"].(string)
	_, body = call(t, s, "root", "GET", "/v3/ops/types/"+id+"/extra_specs", "")
	if body["extra_specs"].(map[string]any)["volume_backend_name"] != "lvm" {
		t.Errorf("admin extra specs: %v", body)
	}
	_, body = call(t, s, "alice", "GET", "/v3/p1/types/"+id+"/extra_specs", "")
	if len(body["extra_specs"].(map[string]any)) != 0 {
		t.Errorf("a member sees backend extra specs: %v", body)
	}
	for _, c := range []struct {
		token, method, path, body string
		code                      int
	}{
		{"alice", "GET", "/v3/p1/types/" + id, "", 200},
		{"alice", "GET", "/v3/p1/types/gold", "", 200},
		{"alice", "GET", "/v3/p1/types/default", "", 200},
		{"alice", "POST", "/v3/p1/types", `{"volume_type": {"name": "x"}}`, 403},
		{"root", "POST", "/v3/ops/types", `{"volume_type": {"name": "gold"}}`, 409},
		{"root", "POST", "/v3/ops/types", `{"volume_type": {"name": ""}}`, 400},
		{"root", "POST", "/v3/ops/types", `{"volume_type": {"name": "y", "colour": "red"}}`, 400},
		{"root", "POST", "/v3/ops/types", `{"volume_type": {"name": 5}}`, 400},
		{"root", "POST", "/v3/ops/types/" + id + "/extra_specs", `{"extra_specs": {"provisioning:type": "thin"}}`, 200},
		{"root", "GET", "/v3/ops/types/" + id + "/extra_specs/provisioning:type", "", 200},
		{"alice", "GET", "/v3/p1/types/" + id + "/extra_specs/provisioning:type", "", 404},
		{"root", "PUT", "/v3/ops/types/" + id + "/extra_specs/provisioning:type", `{"provisioning:type": "thick"}`, 200},
		{"root", "PUT", "/v3/ops/types/" + id + "/extra_specs/a", `{"b": "c"}`, 400},
		{"root", "DELETE", "/v3/ops/types/" + id + "/extra_specs/provisioning:type", "", 202},
		{"alice", "GET", "/v3/p1/types/" + id + "/extra_specs/provisioning:type", "", 404},
		{"root", "PUT", "/v3/ops/types/" + id, `{"volume_type": {"description": "faster"}}`, 200},
		{"alice", "GET", "/v3/p1/types/nope", "", 404},
		{"root", "DELETE", "/v3/ops/types/" + id, "", 202},
		{"alice", "GET", "/v3/p1/types/" + id, "", 404},
	} {
		if code, body := call(t, s, c.token, c.method, c.path, c.body); code != c.code {
			t.Errorf("%s %s %s: %d %v, want %d", c.token, c.method, c.path, code, body, c.code)
		}
	}
	_, body = call(t, s, "alice", "GET", "/v3/p1/types", "")
	if n := len(body["volume_types"].([]any)); n != 1 {
		t.Errorf("%d types listed after the delete, want the default only", n)
	}
}

func TestQuotas(t *testing.T) {
	s, _ := resources(t)
	_, body := call(t, s, "alice", "GET", "/v3/p1/os-quota-sets/p1?usage=true", "")
	vols := body["quota_set"].(map[string]any)["volumes"].(map[string]any)
	if vols["limit"] != float64(10) || vols["in_use"] != float64(0) {
		t.Errorf("usage: %v", body)
	}
	if code, _ := call(t, s, "alice", "GET", "/v3/p1/os-quota-sets/p2", ""); code != 403 {
		t.Errorf("a member reads another project's quotas: %d", code)
	}
	if code, _ := call(t, s, "alice", "PUT", "/v3/p1/os-quota-sets/p1", `{"quota_set": {"volumes": 50}}`); code != 403 {
		t.Errorf("a member raises its own quota: %d", code)
	}
	code, body := call(t, s, "root", "PUT", "/v3/ops/os-quota-sets/p1", `{"quota_set": {"volumes": 20, "gigabytes": "500"}}`)
	if code != 200 || body["quota_set"].(map[string]any)["volumes"] != float64(20) {
		t.Errorf("update: %d %v", code, body)
	}
	for _, bad := range []string{`{"quota_set": {"volumes": -2}}`, `{"quota_set": {"volumes": 1.5}}`, `{"quota_set": {}}`, `{"quota": {}}`} {
		if code, _ := call(t, s, "root", "PUT", "/v3/ops/os-quota-sets/p1", bad); code != 400 {
			t.Errorf("update %s: %d, want 400", bad, code)
		}
	}
	_, body = call(t, s, "alice", "GET", "/v3/p1/limits", "")
	abs := body["limits"].(map[string]any)["absolute"].(map[string]any)
	if abs["maxTotalVolumes"] != float64(20) || abs["maxTotalVolumeGigabytes"] != float64(500) || abs["totalVolumesUsed"] != float64(0) {
		t.Errorf("limits: %v", abs)
	}
	_, body = call(t, s, "alice", "GET", "/v3/p1/os-quota-sets/p1/defaults", "")
	if body["quota_set"].(map[string]any)["volumes"] != float64(10) {
		t.Errorf("defaults: %v", body)
	}
	if code, _ := call(t, s, "root", "DELETE", "/v3/ops/os-quota-sets/p1", ""); code != 200 {
		t.Errorf("reset: %d", code)
	}
	_, body = call(t, s, "alice", "GET", "/v3/p1/os-quota-sets/p1", "")
	if body["quota_set"].(map[string]any)["volumes"] != float64(10) {
		t.Errorf("after reset: %v", body)
	}
}

func TestPoolsServicesZones(t *testing.T) {
	s, st := resources(t)
	_, err := st.ReportCapacity(t.Context(), store.BackendReport{Backend: "fake", AvailabilityZone: "nova",
		MaxOverSubscriptionRatio: "auto", Capacity: sdk.Capacity{BootID: "b", Seq: 1, Pools: []sdk.Pool{
			{Name: "fast", TotalBytes: 10 << 30, FreeBytes: 4 << 30, Thick: true},
			{Name: "slow", CapacityInfinite: true, Thin: true}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Heartbeat(t.Context(), "fake", "kiln-volume", "nova"); err != nil {
		t.Fatal(err)
	}
	if code, _ := call(t, s, "alice", "GET", "/v3/p1/scheduler-stats/get_pools", ""); code != 403 {
		t.Errorf("a member lists pools: %d", code)
	}
	_, body := call(t, s, "root", "GET", "/v3/ops/scheduler-stats/get_pools?detail=true", "")
	pools := body["pools"].([]any)
	caps := pools[0].(map[string]any)["capabilities"].(map[string]any)
	if len(pools) != 2 || pools[0].(map[string]any)["name"] != "fake#fast" || caps["free_capacity_gb"] != float64(4) ||
		caps["max_over_subscription_ratio"] != "auto" || pools[1].(map[string]any)["capabilities"].(map[string]any)["total_capacity_gb"] != "infinite" {
		t.Errorf("pools: %v", pools)
	}
	_, body = call(t, s, "root", "GET", "/v3/ops/os-services", "")
	svc := body["services"].([]any)[0].(map[string]any)
	if svc["host"] != "fake" || svc["state"] != "up" || svc["status"] != "enabled" {
		t.Errorf("services: %v", body)
	}
	_, body = call(t, s, "alice", "GET", "/v3/p1/os-availability-zone", "")
	if zones := body["availabilityZoneInfo"].([]any); len(zones) != 2 || zones[0].(map[string]any)["zoneName"] != "az2" {
		t.Errorf("zones: %v", body)
	}
}

func TestMalformedBodies(t *testing.T) {
	s, _ := resources(t)
	for _, body := range []string{``, `{`, `{"volume_type": {"name": "a"}} {}`, `[]`} {
		r := httptest.NewRequest("POST", "/v3/ops/types", bytes.NewBufferString(body))
		r.Header.Set("X-Auth-Token", "root")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != 400 || !strings.Contains(w.Body.String(), "badRequest") {
			t.Errorf("body %q: %d %s", body, w.Code, w.Body)
		}
	}
}
