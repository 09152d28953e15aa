package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/kilnstorage/kiln/host/store"
)

// maxBody bounds a request body.
const maxBody = 1 << 20

// decode reads a JSON body into v strictly: a malformed body, a wrong type or an unknown field is
// a 400 naming it.
func decode(r *http.Request, v any) *Fault {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return faultf(http.StatusBadRequest, "The request body is empty; a JSON object is required.")
		case errors.As(err, &typeErr):
			return faultf(http.StatusBadRequest, fmt.Sprintf("Invalid input for field/attribute %s: want %s, got %s.",
				typeErr.Field, typeErr.Type, typeErr.Value))
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			return faultf(http.StatusBadRequest, "Invalid input: additional property "+strings.TrimPrefix(err.Error(), "json: unknown field ")+" is not allowed.")
		}
		return faultf(http.StatusBadRequest, "Malformed request body: "+err.Error())
	}
	if dec.More() {
		return faultf(http.StatusBadRequest, "Malformed request body: more than one JSON value.")
	}
	return nil
}

// storeFault maps a store error to Cinder's status and message; anything unexpected is a 500
// that does not leak internals.
func storeFault(err error) *Fault {
	var over *store.OverQuotaError
	switch {
	case errors.As(err, &over):
		return faultf(http.StatusRequestEntityTooLarge, "VolumeLimitExceeded: "+over.Error())
	case errors.Is(err, store.ErrNotFound):
		return faultf(http.StatusNotFound, capitalize(err.Error())+".")
	case errors.Is(err, store.ErrExists), errors.Is(err, store.ErrInUse):
		return faultf(http.StatusConflict, capitalize(err.Error())+".")
	case errors.Is(err, store.ErrInvalid), errors.Is(err, store.ErrMarkerNotFound):
		return faultf(http.StatusBadRequest, capitalize(err.Error())+".")
	}
	return faultf(http.StatusInternalServerError, "The server has either erred or is incapable of performing the requested operation.")
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// handler adapts a function returning (status, body, fault) to net/http.
type handler func(r *http.Request) (int, any, *Fault)

func (h handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	code, body, fault := h(r)
	switch {
	case fault != nil:
		writeFault(w, fault)
	case body == nil:
		w.WriteHeader(code)
	default:
		writeJSON(w, code, body)
	}
}
