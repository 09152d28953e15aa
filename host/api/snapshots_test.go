package api

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/volume/flows"
)

// snapshotsAPI is volumesAPI with the snapshot routes too.
func snapshotsAPI(t *testing.T) (*Server, *store.Store) {
	t.Helper()
	s, st := volumesAPI(t)
	s.opts.Snapshots = s.opts.Volumes.(*flows.Service)
	s.snapshotRoutes()
	return s, st
}

func waitSnapshot(t *testing.T, s *Server, path, want string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, body := call(t, s, "alice", "GET", path, "")
		v, _ := body["snapshot"].(map[string]any)
		if v != nil && v["status"] == want {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v, want status %s", path, body, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSnapshots(t *testing.T) {
	s, _ := snapshotsAPI(t)
	code, body := call(t, s, "alice", "POST", "/v3/p1/volumes", `{"volume": {"size": 2}}`)
	if code != 202 {
		t.Fatalf("create volume: %d %v", code, body)
	}
	vol := body["volume"].(map[string]any)["id"].(string)
	waitStatus(t, s, "alice", "/v3/p1/volumes/"+vol, "available")

	code, body = call(t, s, "alice", "POST", "/v3/p1/snapshots",
		`{"snapshot": {"volume_id": "`+vol+`", "name": "s1", "description": "d", "metadata": {"k": "v"}, "force": "false"}}`)
	if code != 202 {
		t.Fatalf("create: %d %v", code, body)
	}
	created := body["snapshot"].(map[string]any)
	id := created["id"].(string)
	if created["status"] != "creating" || created["os-extended-snapshot-attributes:progress"] != "0%" {
		t.Errorf("created: %v", created)
	}
	got := waitSnapshot(t, s, "/v3/p1/snapshots/"+id, "available")
	want := map[string]any{"id": id, "name": "s1", "description": "d", "volume_id": vol, "status": "available",
		"size": float64(2), "metadata": map[string]any{"k": "v"},
		"os-extended-snapshot-attributes:project_id": "p1", "os-extended-snapshot-attributes:progress": "100%"}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range got {
			if !yield(k) {
				return
			}
		}
	})
	if !cmp.Equal(keys, []string{"created_at", "description", "id", "metadata", "name",
		"os-extended-snapshot-attributes:progress", "os-extended-snapshot-attributes:project_id",
		"size", "status", "updated_at", "volume_id"}) {
		t.Errorf("fields: %v", keys)
	}
	delete(got, "created_at")
	delete(got, "updated_at")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("show (-want +got):\n%s", diff)
	}

	_, body = call(t, s, "alice", "GET", "/v3/p1/snapshots", "")
	if list := body["snapshots"].([]any); len(list) != 1 || list[0].(map[string]any)["os-extended-snapshot-attributes:progress"] != nil {
		t.Errorf("list: %v", body)
	}
	_, body = call(t, s, "alice", "GET", "/v3/p1/snapshots/detail?volume_id="+vol+"&limit=1", "")
	if list := body["snapshots"].([]any); len(list) != 1 || body["snapshots_links"] == nil {
		t.Errorf("detail: %v", body)
	}
	if _, body = call(t, s, "alice", "GET", "/v3/p1/snapshots?status=error", ""); len(body["snapshots"].([]any)) != 0 {
		t.Errorf("status filter: %v", body)
	}
	code, body = call(t, s, "alice", "PUT", "/v3/p1/snapshots/"+id, `{"snapshot": {"name": "s2", "metadata": {"a": "b"}}}`)
	if v := body["snapshot"].(map[string]any); code != 200 || v["name"] != "s2" || !cmp.Equal(v["metadata"], map[string]any{"a": "b"}) {
		t.Errorf("update: %d %v", code, body)
	}
	// The volume has a snapshot: it cannot be deleted.
	if code, body = call(t, s, "alice", "DELETE", "/v3/p1/volumes/"+vol, ""); code != 400 || !strings.Contains(body["badRequest"].(map[string]any)["message"].(string), "snapshots") {
		t.Errorf("delete of a volume with a snapshot: %d %v", code, body)
	}
	if code, _ := call(t, s, "root", "DELETE", "/v3/ops/snapshots/"+id, ""); code != 404 {
		t.Errorf("another project deletes it: %d", code)
	}
	if code, body = call(t, s, "alice", "DELETE", "/v3/p1/snapshots/"+id, ""); code != 202 {
		t.Errorf("delete: %d %v", code, body)
	}
	if code, body = call(t, s, "alice", "GET", "/v3/p1/snapshots/"+id, ""); code != 404 || body["itemNotFound"] == nil {
		t.Errorf("show after delete: %d %v", code, body)
	}
	if code, _ := call(t, s, "alice", "DELETE", "/v3/p1/volumes/"+vol, ""); code != 202 {
		t.Errorf("delete of the volume after its snapshot: %d", code)
	}
}

func TestSnapshots_badInput(t *testing.T) {
	s, st := snapshotsAPI(t)
	_, body := call(t, s, "alice", "POST", "/v3/p1/volumes", `{"volume": {"size": 1}}`)
	vol := body["volume"].(map[string]any)["id"].(string)
	waitStatus(t, s, "alice", "/v3/p1/volumes/"+vol, "available")
	if err := st.SetQuotaLimits(t.Context(), "p1", store.Limits{store.Gigabytes: 1}); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		method, path, body string
		code               int
		fault              string
	}{
		"no volume_id":     {"POST", "/snapshots", `{"snapshot": {"name": "x"}}`, 400, "volume_id"},
		"unknown field":    {"POST", "/snapshots", `{"snapshot": {"volume_id": "` + vol + `", "size": 1}}`, 400, "size"},
		"bad force":        {"POST", "/snapshots", `{"snapshot": {"volume_id": "` + vol + `", "force": "maybe"}}`, 400, "force"},
		"long name":        {"POST", "/snapshots", `{"snapshot": {"volume_id": "` + vol + `", "name": "` + strings.Repeat("n", 256) + `"}}`, 400, "name"},
		"missing volume":   {"POST", "/snapshots", `{"snapshot": {"volume_id": "nope"}}`, 404, "Volume nope could not be found"},
		"over quota":       {"POST", "/snapshots", `{"snapshot": {"volume_id": "` + vol + `"}}`, 413, "VolumeSizeExceedsAvailableQuota"},
		"missing snapshot": {"GET", "/snapshots/nope", ``, 404, "Snapshot nope could not be found"},
		"update nothing":   {"PUT", "/snapshots/nope", `{"snapshot": {}}`, 400, "Specify"},
		"update volume_id": {"PUT", "/snapshots/nope", `{"snapshot": {"volume_id": "x"}}`, 400, "only name"},
		"delete missing":   {"DELETE", "/snapshots/nope", ``, 404, "Snapshot nope"},
	} {
		code, body := call(t, s, "alice", c.method, "/v3/p1"+c.path, c.body)
		if code != c.code || !strings.Contains(strings.ToLower(toJSON(body)), strings.ToLower(c.fault)) {
			t.Errorf("%s: %d %v, want %d mentioning %q", name, code, body, c.code, c.fault)
		}
	}
	if _, body := call(t, s, "alice", "GET", "/v3/p1/snapshots", ""); len(body["snapshots"].([]any)) != 0 {
		t.Errorf("bad requests left snapshots: %v", body)
	}
}
