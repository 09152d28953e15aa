package api

import (
	"net/http"
)

// versionDoc describes the v3 API as Cinder's version discovery does.
func versionDoc(r *http.Request) map[string]any {
	base := "http://" + r.Host
	return map[string]any{
		"id":          "v3.0",
		"status":      "CURRENT",
		"version":     MaxVersion.String(),
		"min_version": MinVersion.String(),
		"updated":     "2026-11-26T00:00:00Z",
		"links": []map[string]string{
			{"rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/"},
			{"rel": "self", "href": base + "/v3/"},
		},
		"media-types": []map[string]string{
			{"base": "application/json", "type": "application/vnd.openstack.volume+json;version=3"},
		},
	}
}

// versions answers GET /: 300 with every API version (only v3).
func versions(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusMultipleChoices, map[string]any{"versions": []any{versionDoc(r)}})
}

// v3Version answers GET /v3/.
func v3Version(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"versions": []any{versionDoc(r)}})
}
