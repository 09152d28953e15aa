package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// echo is a route that reports what the middleware established.
func echo(w http.ResponseWriter, r *http.Request) {
	if _, fault := projectOf(r); fault != nil {
		writeFault(w, fault)
		return
	}
	id := identity(r.Context())
	writeJSON(w, http.StatusOK, map[string]any{"user": id.User, "project": id.Project,
		"admin": id.Admin, "version": requestVersion(r.Context()).String()})
}

func testServer(a Authenticator) *Server {
	s := New(Options{Auth: a})
	s.handle("GET /echo", http.HandlerFunc(echo))
	return s
}

func do(t *testing.T, h http.Handler, method, path string, headers map[string]string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var body map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &body)
	return w, body
}

func TestMicroversions(t *testing.T) {
	s := testServer(NoAuth{})
	tests := []struct {
		header string
		code   int
		want   string
	}{
		{"", 200, "3.0"},
		{"volume 3.0", 200, "3.0"},
		{"volume latest", 200, MaxVersion.String()},
		{"compute 2.1, volume 3.0", 200, "3.0"},
		{"volume 3.999", 406, "Version 3.999 is not supported by the API. Minimum is 3.0 and maximum is " + MaxVersion.String() + "."},
		{"volume 2.0", 406, "Version 2.0 is not supported"},
		{"volume 3.01", 400, `is not in the format MAJOR.MINOR.`},
		{"compute 2.1", 400, "no entry for the volume service"},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			h := map[string]string{"X-Auth-Token": "u:p"}
			if tt.header != "" {
				h[versionHeader] = tt.header
			}
			w, body := do(t, s, "GET", "/v3/p/echo", h)
			if w.Code != tt.code {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.code, w.Body)
			}
			if w.Header().Get("Vary") != versionHeader || !strings.HasPrefix(w.Header().Get(versionHeader), "volume 3.") {
				t.Errorf("headers %v", w.Header())
			}
			got := w.Body.String()
			if tt.code == 200 {
				got = body["version"].(string)
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("body %s, want %q", got, tt.want)
			}
		})
	}
}

func TestFaultBodies(t *testing.T) {
	w := httptest.NewRecorder()
	writeFault(w, faultf(413, "VolumeLimitExceeded: Maximum number of volumes allowed (10) exceeded"))
	want := map[string]any{"overLimit": map[string]any{"code": float64(413), "retryAfter": "0",
		"message": "VolumeLimitExceeded: Maximum number of volumes allowed (10) exceeded"}}
	var got map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &got)
	if diff := cmp.Diff(want, got); diff != "" || w.Header().Get("Retry-After") != "0" {
		t.Errorf("413 body (-want +got):\n%s", diff)
	}
	w, body := do(t, testServer(NoAuth{}), "GET", "/v3/p/nowhere", nil)
	if w.Code != 404 || body["itemNotFound"] == nil {
		t.Errorf("unknown path: %d %v", w.Code, body)
	}
}

func TestNoAuth(t *testing.T) {
	s := testServer(NoAuth{})
	w, _ := do(t, s, "GET", "/v3/p/echo", map[string]string{"X-Auth-User": "alice", "X-Auth-Project-Id": "p"})
	if w.Code != 204 || w.Header().Get("X-Auth-Token") != "alice:p" {
		t.Errorf("no token: %d %v", w.Code, w.Header())
	}
	_, body := do(t, s, "GET", "/v3/p/echo", map[string]string{"X-Auth-Token": "alice:p"})
	if body["user"] != "alice" || body["project"] != "p" || body["admin"] != true {
		t.Errorf("token alice:p: %v", body)
	}
	_, body = do(t, s, "GET", "/v3/bob/echo", map[string]string{"X-Auth-Token": "bob"})
	if body["project"] != "bob" {
		t.Errorf("token without a project: %v", body)
	}
	w, _ = do(t, s, "GET", "/v3/other/echo", map[string]string{"X-Auth-Token": "alice:p"})
	if w.Code != 400 || !strings.Contains(w.Body.String(), "Malformed request url") {
		t.Errorf("another project's URL: %d %s", w.Code, w.Body)
	}
}

func TestTokenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.json")
	_ = os.WriteFile(path, []byte(`{"t1": {"user": "alice", "project": "p1", "roles": ["member"]},
		"t2": {"user": "root", "project": "ops", "roles": ["admin"]}}`), 0o600)
	tf, err := LoadTokenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := testServer(tf)
	_, body := do(t, s, "GET", "/v3/p1/echo", map[string]string{"X-Auth-Token": "t1"})
	if body["user"] != "alice" || body["admin"] != false {
		t.Errorf("member: %v", body)
	}
	_, body = do(t, s, "GET", "/v3/ops/echo", map[string]string{"X-Auth-Token": "t2"})
	if body["admin"] != true {
		t.Errorf("admin: %v", body)
	}
	w, body := do(t, s, "GET", "/v3/p1/echo", map[string]string{"X-Auth-Token": "nope"})
	if w.Code != 401 || body["unauthorized"] == nil {
		t.Errorf("unknown token: %d %v", w.Code, body)
	}
	_ = os.WriteFile(path, []byte(`{"t1": {"user": "alice", "project": "p1", "rolez": []}}`), 0o600)
	if _, err := LoadTokenFile(path); err == nil {
		t.Error("a token file with an unknown field was accepted")
	}
}

func TestVersionDiscovery(t *testing.T) {
	s := testServer(NoAuth{})
	w, body := do(t, s, "GET", "/", nil)
	if w.Code != 300 || len(body["versions"].([]any)) != 1 {
		t.Errorf("GET /: %d %v", w.Code, body)
	}
	w, body = do(t, s, "GET", "/v3/", nil)
	v := body["versions"].([]any)[0].(map[string]any)
	if w.Code != 200 || v["id"] != "v3.0" || v["min_version"] != "3.0" {
		t.Errorf("GET /v3/: %d %v", w.Code, body)
	}
}
