package api

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// faultNames are Cinder's fault names by HTTP status (cinder/api/openstack/wsgi.py).
var faultNames = map[int]string{
	http.StatusBadRequest:            "badRequest",
	http.StatusUnauthorized:          "unauthorized",
	http.StatusForbidden:             "forbidden",
	http.StatusNotFound:              "itemNotFound",
	http.StatusMethodNotAllowed:      "badMethod",
	http.StatusNotAcceptable:         "notAcceptable",
	http.StatusConflict:              "conflictingRequest",
	http.StatusRequestEntityTooLarge: "overLimit",
	http.StatusUnsupportedMediaType:  "badMediaType",
	http.StatusNotImplemented:        "notImplemented",
	http.StatusServiceUnavailable:    "serviceUnavailable",
}

// Fault is an error the API answers with a status code and a Cinder fault body.
type Fault struct {
	Code    int
	Message string
}

func (f *Fault) Error() string { return f.Message }

// faultf builds a Fault.
func faultf(code int, msg string) *Fault { return &Fault{Code: code, Message: msg} }

// writeFault writes f as Cinder does: {"<faultName>": {"code": N, "message": "…"}}; 413 adds
// retryAfter, in the body and the header.
func writeFault(w http.ResponseWriter, f *Fault) {
	name, ok := faultNames[f.Code]
	if !ok {
		name = "computeFault"
	}
	body := map[string]any{"code": f.Code, "message": f.Message}
	if f.Code == http.StatusRequestEntityTooLarge {
		body["retryAfter"] = "0"
		w.Header().Set("Retry-After", "0")
	}
	writeJSON(w, f.Code, map[string]any{name: body})
}

// writeJSON writes v with status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	raw, err := json.Marshal(v)
	if err != nil {
		code, raw = http.StatusInternalServerError, []byte(`{"computeFault": {"code": 500, "message": "The server could not encode its answer."}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(raw)))
	w.WriteHeader(code)
	_, _ = w.Write(raw)
}
