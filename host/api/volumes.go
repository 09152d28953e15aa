package api

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/volume"
	"github.com/kilnstorage/kiln/host/volume/flows"
)

// VolumeService runs the volume flows; *flows.Service is one.
type VolumeService interface {
	CreateVolume(ctx context.Context, req flows.Request) (store.Volume, error)
	DeleteVolume(ctx context.Context, sc store.Scope, projectID, id string, o flows.DeleteOptions) error
	ExtendVolume(ctx context.Context, sc store.Scope, projectID, id string, newSizeGiB int64) error
	ForceDeleteSnapshot(ctx context.Context, sc store.Scope, projectID, id string) error
}

func (s *Server) volumeRoutes() {
	s.handle("POST /volumes", handler(s.createVolume))
	s.handle("GET /volumes", handler(s.listVolumes(false)))
	s.handle("GET /volumes/detail", handler(s.listVolumes(true)))
	s.handle("GET /volumes/{id}", handler(s.showVolume))
	s.handle("PUT /volumes/{id}", handler(s.updateVolume))
	s.handle("DELETE /volumes/{id}", handler(s.deleteVolume))
	s.handle("GET /volumes/{id}/events", handler(s.volumeEvents))
	s.actionRoutes()
}

// volumeEvents lists a volume's events (volume.create.start, .end, volume.delete.start, …): a
// Kiln extension, readable by whoever can see the volume.
func (s *Server) volumeEvents(r *http.Request) (int, any, *Fault) {
	id := r.PathValue("id")
	if _, err := s.opts.Store.Volume(r.Context(), scope(r), id); err != nil {
		return 0, nil, volumeNotFound(err, id)
	}
	events, err := s.opts.Store.Events(r.Context(), id)
	if err != nil {
		return 0, nil, storeFault(err)
	}
	out := make([]any, 0, len(events))
	for _, e := range events {
		out = append(out, map[string]any{"event_type": e.Kind, "volume_id": e.VolumeID,
			"timestamp": e.At.UTC().Format(timeFormat), "detail": e.Detail})
	}
	return http.StatusOK, map[string]any{"events": out}, nil
}

// deleteVolume deletes a volume (with cascade=true, its snapshots first). A refusal (status,
// snapshots, not found) changes nothing; a driver failure after the delete began is accepted
// and shows in the volume's status (error_deleting, or available again when the driver says it
// is in use), as Cinder's would.
func (s *Server) deleteVolume(r *http.Request) (int, any, *Fault) {
	id := r.PathValue("id")
	cascade, fault := boolParam(r, "cascade")
	if fault != nil {
		return 0, nil, fault
	}
	err := s.opts.Volumes.DeleteVolume(r.Context(), scope(r), identity(r.Context()).Project, id,
		flows.DeleteOptions{Cascade: cascade})
	return deleteAnswer(err, id, false)
}

// boolParam reads a boolean query parameter as Cinder's get_bool_param (strict).
func boolParam(r *http.Request, name string) (bool, *Fault) {
	v := r.URL.Query().Get(name)
	switch strings.ToLower(v) {
	case "", "0", "f", "false", "n", "no", "off":
		return false, nil
	case "1", "t", "true", "y", "yes", "on":
		return true, nil
	}
	return false, faultf(http.StatusBadRequest, fmt.Sprintf("Invalid value '%s' for %s: it must be a boolean.", v, name))
}

const gibBytes = 1 << 30

// scope is the rows the caller may see: its project, or all with all_tenants for an admin.
func scope(r *http.Request) store.Scope {
	id := identity(r.Context())
	if id.Admin && truthy(r.URL.Query().Get("all_tenants")) {
		return store.AllProjects()
	}
	return store.ProjectScope(id.Project)
}

func truthy(s string) bool { return s == "1" || s == "true" || s == "True" }

type createBody struct {
	Volume struct {
		Size               *json.Number      `json:"size"`
		Name               *string           `json:"name"`
		Description        *string           `json:"description"`
		DisplayName        *string           `json:"display_name"`
		DisplayDescription *string           `json:"display_description"`
		VolumeType         string            `json:"volume_type"`
		AvailabilityZone   string            `json:"availability_zone"`
		Metadata           map[string]string `json:"metadata"`
		SnapshotID         string            `json:"snapshot_id"`
		SourceVolID        string            `json:"source_volid"`
		ImageRef           string            `json:"imageRef"`
		BackupID           string            `json:"backup_id"`
		Multiattach        *bool             `json:"multiattach"`
		ConsistencyGroupID *string           `json:"consistencygroup_id"`
	} `json:"volume"`
	SchedulerHints map[string]any `json:"OS-SCH-HNT:scheduler_hints"`
}

func (s *Server) createVolume(r *http.Request) (int, any, *Fault) {
	var body createBody
	if fault := decode(r, &body); fault != nil {
		return 0, nil, fault
	}
	in := body.Volume
	var size int64
	var fault *Fault
	if in.Size != nil || in.SnapshotID == "" && in.SourceVolID == "" { // a copy's size defaults to its source's
		if size, fault = volumeSize(in.Size); fault != nil {
			return 0, nil, fault
		}
	}
	if fault := checkText(first(in.Name, in.DisplayName), first(in.Description, in.DisplayDescription), in.Metadata); fault != nil {
		return 0, nil, fault
	}
	if in.Multiattach != nil && *in.Multiattach {
		return 0, nil, faultf(http.StatusBadRequest, "Multiattach volumes are not supported.")
	}
	id := identity(r.Context())
	req := flows.Request{ProjectID: id.Project, UserID: id.User, SizeGiB: size,
		Name: first(in.Name, in.DisplayName), Description: first(in.Description, in.DisplayDescription),
		VolumeType: in.VolumeType, AvailabilityZone: in.AvailabilityZone, Metadata: in.Metadata,
		SnapshotID: in.SnapshotID, SourceVolumeID: in.SourceVolID, ImageID: in.ImageRef, BackupID: in.BackupID}
	v, err := s.opts.Volumes.CreateVolume(r.Context(), req)
	if err != nil {
		return 0, nil, volumeFault(err)
	}
	return http.StatusAccepted, map[string]any{"volume": s.volumeView(r, v)}, nil
}

// volumeSize reads size, a positive whole number of GiB (Cinder also takes it as a string).
func volumeSize(n *json.Number) (int64, *Fault) {
	if n == nil {
		return 0, faultf(http.StatusBadRequest, "Invalid input for field/attribute size: size is required.")
	}
	size, err := strconv.ParseInt(n.String(), 10, 64)
	if err != nil || size <= 0 || size > math.MaxInt32 {
		return 0, faultf(http.StatusBadRequest, "Invalid input for field/attribute size. Value: "+n.String()+
			". Size must be an integer from 1 to 2147483647 (GiB).")
	}
	return size, nil
}

func first(a, b *string) string {
	switch {
	case a != nil:
		return *a
	case b != nil:
		return *b
	}
	return ""
}

// volumeFault maps a create's error: bad requests and a source in a status it cannot be used
// from 400, unknown type or source 404, over quota 413, a full queue 503.
func volumeFault(err error) *Fault {
	var te *volume.TransitionError
	var nf *flows.NotFoundError
	switch {
	case errors.As(err, &te):
		return faultf(http.StatusBadRequest, "Invalid "+string(te.Kind)+": "+te.Error())
	case errors.As(err, &nf):
		return faultf(http.StatusNotFound, capitalize(nf.Error())+".")
	case errors.Is(err, flows.ErrInvalidRequest) && !errors.Is(err, store.ErrNotFound):
		return faultf(http.StatusBadRequest, "Invalid input received: "+err.Error())
	case errors.Is(err, flows.ErrQueueFull), errors.Is(err, flows.ErrQueueClosed):
		return faultf(http.StatusServiceUnavailable, "The volume service is busy; try again.")
	}
	return storeFault(err)
}

func (s *Server) showVolume(r *http.Request) (int, any, *Fault) {
	v, err := s.opts.Store.Volume(r.Context(), scope(r), r.PathValue("id"))
	if err != nil {
		return 0, nil, volumeNotFound(err, r.PathValue("id"))
	}
	return http.StatusOK, map[string]any{"volume": s.volumeView(r, v)}, nil
}

func volumeNotFound(err error, id string) *Fault {
	if errors.Is(err, store.ErrNotFound) {
		return faultf(http.StatusNotFound, "Volume "+id+" could not be found.")
	}
	return storeFault(err)
}

type updateBody struct {
	Volume struct {
		Name               *string           `json:"name"`
		Description        *string           `json:"description"`
		DisplayName        *string           `json:"display_name"`
		DisplayDescription *string           `json:"display_description"`
		Metadata           map[string]string `json:"metadata"`
	} `json:"volume"`
}

// updateOf is the store.Update of an update request of a volume or a snapshot: name and
// description (or their display_ spellings), metadata replacing the old; at least one, each
// within bounds.
func updateOf(name, description, displayName, displayDescription *string, metadata map[string]string) (store.Update, *Fault) {
	u := store.Update{Name: cmp.Or(name, displayName), Description: cmp.Or(description, displayDescription),
		Metadata: metadata, ReplaceMetadata: metadata != nil}
	if u.Name == nil && u.Description == nil && u.Metadata == nil {
		return u, faultf(http.StatusBadRequest, "Specify a name, a description or metadata to update.")
	}
	return u, checkText(first(u.Name, nil), first(u.Description, nil), u.Metadata)
}

func (s *Server) updateVolume(r *http.Request) (int, any, *Fault) {
	var body updateBody
	if fault := decode(r, &body); fault != nil {
		return 0, nil, fault
	}
	in := body.Volume
	u, fault := updateOf(in.Name, in.Description, in.DisplayName, in.DisplayDescription, in.Metadata)
	if fault != nil {
		return 0, nil, fault
	}
	v, err := s.opts.Store.UpdateVolume(r.Context(), scope(r), r.PathValue("id"), u)
	var te *volume.TransitionError
	switch {
	case errors.As(err, &te):
		return 0, nil, faultf(http.StatusBadRequest, "Invalid volume: "+te.Error())
	case err != nil:
		return 0, nil, volumeNotFound(err, r.PathValue("id"))
	}
	return http.StatusOK, map[string]any{"volume": s.volumeView(r, v)}, nil
}

// checkText bounds a volume's name (255), description (255) and metadata keys and values (255
// each), as Cinder's schemas do.
func checkText(name, description string, meta map[string]string) *Fault {
	switch {
	case len(name) > 255:
		return faultf(http.StatusBadRequest, "Invalid input for field/attribute name: longer than 255 characters.")
	case len(description) > 255:
		return faultf(http.StatusBadRequest, "Invalid input for field/attribute description: longer than 255 characters.")
	}
	for k, v := range meta {
		if k == "" || len(k) > 255 || len(v) > 255 {
			return faultf(http.StatusBadRequest, "Invalid input for field/attribute metadata: keys must be 1 to 255 characters and values at most 255.")
		}
	}
	return nil
}
