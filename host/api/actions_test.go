package api

import (
	"strings"
	"testing"

	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/volume"
)

// fault returns the message of a Cinder fault body.
func fault(body map[string]any) string {
	for _, v := range body {
		if m, ok := v.(map[string]any); ok {
			msg, _ := m["message"].(string)
			return msg
		}
	}
	return ""
}

func TestVolumeActions(t *testing.T) {
	s, st := volumesAPI(t)
	_, body := call(t, s, "alice", "POST", "/v3/p1/volumes", `{"volume": {"size": 1}}`)
	id := body["volume"].(map[string]any)["id"].(string)
	path := "/v3/p1/volumes/" + id
	waitStatus(t, s, "alice", path, "available")
	act := func(token, body string) (int, string) {
		t.Helper()
		code, out := call(t, s, token, "POST", path+"/action", body)
		return code, fault(out)
	}
	for _, c := range []struct {
		token, body string
		code        int
		msg         string
	}{
		{"alice", `{"os-extend": {"new_size": 1}}`, 400, "New size for extend must be greater than current size. (current: 1, extended: 1)."},
		{"alice", `{"os-extend": {"new_size": "x"}}`, 400, "Invalid input for os-extend"},
		{"alice", `{"os-extend": {}}`, 400, "new_size is required"},
		{"alice", `{"os-extend": {"new_size": 2, "x": 1}}`, 400, "unknown field"},
		{"alice", `{"os-extend": {"new_size": 20000}}`, 413, "VolumeSizeExceedsAvailableQuota"},
		{"alice", `{"os-frobnicate": {}}`, 400, "There is no such action: os-frobnicate"},
		{"alice", `{"os-extend": {"new_size": 2}, "os-force_delete": {}}`, 400, "exactly one action"},
		{"alice", `{"os-reset_status": {"status": "error"}}`, 403, "Policy"},
		{"alice", `{"os-force_delete": {}}`, 403, "Policy"},
	} {
		if code, msg := act(c.token, c.body); code != c.code || !strings.Contains(msg, c.msg) {
			t.Errorf("%s %s: %d %q, want %d %q", c.token, c.body, code, msg, c.code, c.msg)
		}
	}
	// Past per_volume_gigabytes: Cinder's VolumeSizeExceedsLimit.
	if err := st.SetQuotaLimits(t.Context(), "p1", store.Limits{store.PerVolumeGigabytes: 3}); err != nil {
		t.Fatal(err)
	}
	if code, msg := act("alice", `{"os-extend": {"new_size": 4}}`); code != 413 || !strings.Contains(msg, "VolumeSizeExceedsLimit") {
		t.Errorf("extend past per_volume_gigabytes: %d %q", code, msg)
	}
	if err := st.SetQuotaLimits(t.Context(), "p1", store.Limits{store.PerVolumeGigabytes: -1}); err != nil {
		t.Fatal(err)
	}
	if code, msg := act("alice", `{"os-extend": {"new_size": 3}}`); code != 202 {
		t.Fatalf("extend: %d %s", code, msg)
	}
	if v := waitStatus(t, s, "alice", path, "available"); v["size"] != float64(3) {
		t.Errorf("size after extend: %v", v["size"])
	}
	// Admin actions on another project's volume go through the admin's own project URL.
	admin := func(body string) (int, string) {
		t.Helper()
		code, out := call(t, s, "root", "POST", "/v3/ops/volumes/"+id+"/action", body)
		return code, fault(out)
	}
	if code, _ := call(t, s, "root", "POST", "/v3/ops/volumes/nope/action", `{"os-force_delete": {}}`); code != 404 {
		t.Errorf("force delete of a missing volume: %d", code)
	}
	for _, c := range []struct {
		body string
		code int
		msg  string
	}{
		{`{"os-reset_status": {"status": "deleting"}}`, 400, "expected one of: available, error,"},
		// Statuses a running flow owns: never set by hand.
		{`{"os-reset_status": {"status": "creating"}}`, 400, "invalid volume status"},
		{`{"os-reset_status": {"status": "extending"}}`, 400, "invalid volume status"},
		{`{"os-reset_status": {"status": "error_deletingdetaching"}}`, 400, "Value: error_deletingdetaching"},
		{`{"os-reset_status": {"status": "error_deleting"}}`, 400, "invalid volume status"},
		{`{"os-reset_status": {"status": "detaching"}}`, 400, "invalid volume status"},
		{`{"os-reset_status": {"status": "error", "attach_status": "attached"}}`, 400, "attach_status"},
		{`{"os-reset_status": {}}`, 400, "Must specify"},
		{`{"os-reset_status": {"status": "error", "attach_status": "detached", "migration_status": "none"}}`, 202, ""},
	} {
		if code, msg := admin(c.body); code != c.code || !strings.Contains(msg, c.msg) {
			t.Errorf("root %s: %d %q, want %d %q", c.body, code, msg, c.code, c.msg)
		}
	}
	// error: not extendable (400 naming available), deletable.
	if code, msg := act("alice", `{"os-extend": {"new_size": 4}}`); code != 400 ||
		!strings.Contains(msg, "Invalid volume: cannot extend-begin volume "+id+": status is error, expected one of: available") {
		t.Errorf("extend of an error volume: %d %q", code, msg)
	}
	// A snapshot blocks a delete (Cinder's message) and a force delete, not a cascade.
	v, _ := st.Volume(t.Context(), store.AllProjects(), id)
	admin(`{"os-reset_status": {"status": "available"}}`)
	sn, err := st.CreateSnapshot(t.Context(), store.ProjectScope("p1"), store.Snapshot{VolumeID: v.ID, UserID: "alice"}, volume.SnapshotSource, "")
	if err != nil {
		t.Fatal(err)
	}
	code, out := call(t, s, "alice", "DELETE", path, "")
	if msg := fault(out); code != 400 || !strings.Contains(msg, "Invalid volume: Volume status must be available or error or "+
		"error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots") ||
		!strings.Contains(msg, "it has 1 snapshots") {
		t.Errorf("delete with a snapshot: %d %q", code, msg)
	}
	if code, msg := admin(`{"os-force_delete": ""}`); code != 400 || !strings.Contains(msg, "Volume must not be migrating") {
		t.Errorf("force delete with a snapshot: %d %q", code, msg)
	}
	if code, out := call(t, s, "alice", "DELETE", path+"?cascade=maybe", ""); code != 400 {
		t.Errorf("cascade=maybe: %d %v", code, out)
	}
	// The snapshot is creating: the cascade is refused, naming it.
	if code, out := call(t, s, "alice", "DELETE", path+"?cascade=true", ""); code != 400 || !strings.Contains(fault(out), sn.ID+" is creating") {
		t.Errorf("cascade with a creating snapshot: %d %v", code, out)
	}
	// Snapshot admin actions.
	snap := func(token, body string) (int, string) {
		t.Helper()
		code, out := call(t, s, token, "POST", "/v3/"+map[string]string{"root": "ops", "alice": "p1"}[token]+"/snapshots/"+sn.ID+"/action", body)
		return code, fault(out)
	}
	for _, c := range []struct {
		token, body string
		code        int
		msg         string
	}{
		{"alice", `{"os-reset_status": {"status": "available"}}`, 403, "Policy"},
		{"root", `{"os-reset_status": {"status": "deleting"}}`, 400, "invalid snapshot status"},
		{"root", `{"os-reset_status": {"status": "deleted"}}`, 400, "invalid snapshot status"},
		{"root", `{"os-update_snapshot_status": {"status": "available"}}`, 400, "no such action"},
		// A creating snapshot belongs to its flow.
		{"root", `{"os-reset_status": {"status": "error"}}`, 400, "status is creating"},
		{"root", `{"os-reset_status": {"status": "creating"}}`, 400, "invalid snapshot status"},
	} {
		if code, msg := snap(c.token, c.body); code != c.code || !strings.Contains(msg, c.msg) {
			t.Errorf("%s %s: %d %q, want %d %q", c.token, c.body, code, msg, c.code, c.msg)
		}
	}
	// Its flow ends; then an admin may reset it.
	if _, err := st.TransitionSnapshot(t.Context(), store.AllProjects(), sn.ID, volume.SnapshotCreateDone, store.SnapshotChange{}); err != nil {
		t.Fatal(err)
	}
	if code, msg := snap("root", `{"os-reset_status": {"status": "error"}}`); code != 202 {
		t.Errorf("reset of an available snapshot: %d %q", code, msg)
	}
	if got, _ := st.Snapshot(t.Context(), store.AllProjects(), sn.ID); got.Status != volume.StatusError {
		t.Errorf("snapshot after reset: %s", got.Status)
	}
	// Now deletable by cascade: the snapshot (never on the driver) and the volume go.
	if code, out := call(t, s, "alice", "DELETE", path+"?cascade=true", ""); code != 202 {
		t.Fatalf("cascade delete: %d %v", code, out)
	}
	if code, _ := call(t, s, "alice", "GET", path, ""); code != 404 {
		t.Errorf("volume after the cascade: %d", code)
	}
	if code, _ := snap("root", `{"os-force_delete": {}}`); code != 404 {
		t.Errorf("force delete of the deleted snapshot: %d", code)
	}
	_, body = call(t, s, "alice", "GET", "/v3/p1/os-quota-sets/p1?usage=true", "")
	for _, r := range []string{"volumes", "gigabytes", "snapshots"} {
		if u := body["quota_set"].(map[string]any)[r].(map[string]any); u["in_use"] != float64(0) || u["reserved"] != float64(0) {
			t.Errorf("%s usage after the cascade: %v", r, u)
		}
	}
}
