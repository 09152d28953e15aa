package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/kilnstorage/kiln/host/flow"
	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/volume"
	"github.com/kilnstorage/kiln/host/volume/flows"
)

// SnapshotService runs the snapshot flows; *flows.Service is one.
type SnapshotService interface {
	CreateSnapshot(ctx context.Context, req flows.SnapshotRequest) (store.Snapshot, error)
	DeleteSnapshot(ctx context.Context, sc store.Scope, projectID, id string) error
}

func (s *Server) snapshotRoutes() {
	s.handle("POST /snapshots", handler(s.createSnapshot))
	s.handle("GET /snapshots", handler(s.listSnapshots(false)))
	s.handle("GET /snapshots/detail", handler(s.listSnapshots(true)))
	s.handle("GET /snapshots/{id}", handler(s.showSnapshot))
	s.handle("PUT /snapshots/{id}", handler(s.updateSnapshot))
	s.handle("DELETE /snapshots/{id}", handler(s.deleteSnapshot))
}

type snapshotBody struct {
	Snapshot struct {
		VolumeID           string            `json:"volume_id"`
		Name               *string           `json:"name"`
		Description        *string           `json:"description"`
		DisplayName        *string           `json:"display_name"`
		DisplayDescription *string           `json:"display_description"`
		Force              json.RawMessage   `json:"force"`
		Metadata           map[string]string `json:"metadata"`
	} `json:"snapshot"`
}

// createSnapshot takes a snapshot of an available volume (in-use with force): 202 with the
// snapshot in `creating`.
func (s *Server) createSnapshot(r *http.Request) (int, any, *Fault) {
	var body snapshotBody
	if fault := decode(r, &body); fault != nil {
		return 0, nil, fault
	}
	in := body.Snapshot
	if in.VolumeID == "" {
		return 0, nil, faultf(http.StatusBadRequest, "Invalid input for field/attribute volume_id: volume_id is required.")
	}
	force, fault := boolean("force", in.Force)
	if fault != nil {
		return 0, nil, fault
	}
	name, desc := first(in.Name, in.DisplayName), first(in.Description, in.DisplayDescription)
	if fault := checkText(name, desc, in.Metadata); fault != nil {
		return 0, nil, fault
	}
	id := identity(r.Context())
	snap, err := s.opts.Snapshots.CreateSnapshot(r.Context(), flows.SnapshotRequest{ProjectID: id.Project,
		UserID: id.User, VolumeID: in.VolumeID, Name: name, Description: desc, Metadata: in.Metadata, Force: force})
	var te *volume.TransitionError
	switch {
	case errors.As(err, &te):
		return 0, nil, faultf(http.StatusBadRequest, "Invalid volume: "+te.Error())
	case errors.Is(err, flows.ErrInvalidRequest):
		return 0, nil, faultf(http.StatusBadRequest, "Invalid input received: "+err.Error())
	case errors.Is(err, flows.ErrQueueClosed):
		return 0, nil, faultf(http.StatusServiceUnavailable, "The volume service is shutting down; try again.")
	case err != nil:
		return 0, nil, quotaFault(err, "SnapshotLimitExceeded", func(err error) *Fault { return volumeNotFound(err, in.VolumeID) })
	}
	return http.StatusAccepted, map[string]any{"snapshot": snapshotView(snap)}, nil
}

// boolean reads Cinder's boolean parameter: absent is false; true, false or one of the
// strings Cinder accepts.
func boolean(field string, raw json.RawMessage) (bool, *Fault) {
	if len(raw) == 0 {
		return false, nil
	}
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b, nil
	}
	var str string
	if json.Unmarshal(raw, &str) == nil {
		switch strings.ToLower(str) {
		case "true", "1", "t", "on", "y", "yes":
			return true, nil
		case "false", "0", "f", "off", "n", "no":
			return false, nil
		}
	}
	return false, faultf(http.StatusBadRequest, "Invalid input for field/attribute "+field+": "+string(raw)+" is not a boolean.")
}

// quotaFault maps an over-quota error to 413 with Cinder's exception name for the resource
// (name for counts, VolumeSizeExceedsAvailableQuota for gigabytes), and anything else with
// other.
func quotaFault(err error, name string, other func(error) *Fault) *Fault {
	var over *store.OverQuotaError
	if !errors.As(err, &over) {
		return other(err)
	}
	if strings.Contains(over.Resource, "gigabytes") {
		name = "VolumeSizeExceedsAvailableQuota"
	}
	return faultf(http.StatusRequestEntityTooLarge, name+": "+over.Error())
}

func (s *Server) showSnapshot(r *http.Request) (int, any, *Fault) {
	id := r.PathValue("id")
	snap, err := s.opts.Store.Snapshot(r.Context(), scope(r), id)
	if err != nil {
		return 0, nil, snapshotNotFound(err, id)
	}
	return http.StatusOK, map[string]any{"snapshot": snapshotView(snap)}, nil
}

func snapshotNotFound(err error, id string) *Fault {
	if errors.Is(err, store.ErrNotFound) {
		return faultf(http.StatusNotFound, "Snapshot "+id+" could not be found.")
	}
	return storeFault(err)
}

// updateSnapshot changes the name, the description or (a Kiln extension; Cinder has
// /snapshots/{id}/metadata for it) the metadata, replaced as a whole.
func (s *Server) updateSnapshot(r *http.Request) (int, any, *Fault) {
	var body snapshotBody
	if fault := decode(r, &body); fault != nil {
		return 0, nil, fault
	}
	in := body.Snapshot
	if in.VolumeID != "" || in.Force != nil {
		return 0, nil, faultf(http.StatusBadRequest, "Invalid input: only name, description and metadata may be updated.")
	}
	u, fault := updateOf(in.Name, in.Description, in.DisplayName, in.DisplayDescription, in.Metadata)
	if fault != nil {
		return 0, nil, fault
	}
	snap, err := s.opts.Store.UpdateSnapshot(r.Context(), scope(r), r.PathValue("id"), u)
	if err != nil {
		return 0, nil, snapshotNotFound(err, r.PathValue("id"))
	}
	return http.StatusOK, map[string]any{"snapshot": snapshotView(snap)}, nil
}

// deleteSnapshot deletes an `available` or `error` snapshot that no volume is being created
// from; a refusal changes nothing (400), a driver failure after the delete began shows as
// `error_deleting`.
func (s *Server) deleteSnapshot(r *http.Request) (int, any, *Fault) {
	id := r.PathValue("id")
	err := s.opts.Snapshots.DeleteSnapshot(r.Context(), scope(r), identity(r.Context()).Project, id)
	var te *volume.TransitionError
	var began *flow.TaskError
	switch {
	case err == nil, errors.As(err, &began):
		return http.StatusAccepted, nil, nil
	case errors.As(err, &te):
		return 0, nil, faultf(http.StatusBadRequest, "Invalid snapshot: "+te.Error())
	}
	return 0, nil, snapshotNotFound(err, id)
}

// listSnapshots answers GET /snapshots and /snapshots/detail (the same fields, as in Cinder,
// but for the extended attributes) with filters status, name, volume_id, sort, limit and
// marker, and a next link when a page is full.
func (s *Server) listSnapshots(detail bool) handler {
	return func(r *http.Request) (int, any, *Fault) {
		q := r.URL.Query()
		f := store.SnapshotFilter{Status: volume.Status(q.Get("status")), Name: q.Get("name"), VolumeID: q.Get("volume_id")}
		opts, fault := listOptions(r)
		if fault != nil {
			return 0, nil, fault
		}
		snaps, err := s.opts.Store.ListSnapshots(r.Context(), scope(r), f, opts)
		if err != nil {
			return 0, nil, storeFault(err)
		}
		views := make([]any, 0, len(snaps))
		for _, snap := range snaps {
			v := snapshotView(snap)
			if !detail {
				delete(v, projectAttr)
				delete(v, progressAttr)
			}
			views = append(views, v)
		}
		body := map[string]any{"snapshots": views}
		if opts.Limit > 0 && len(snaps) == opts.Limit {
			body["snapshots_links"] = nextLinks(r, snaps[len(snaps)-1].ID)
		}
		return http.StatusOK, body, nil
	}
}

// nextLinks is a list's link to the page after the row marker.
func nextLinks(r *http.Request, marker string) []map[string]string {
	next := *r.URL
	q := r.URL.Query()
	q.Set("marker", marker)
	next.RawQuery = q.Encode()
	return []map[string]string{{"rel": "next", "href": "http://" + r.Host + next.String()}}
}

const (
	projectAttr  = "os-extended-snapshot-attributes:project_id"
	progressAttr = "os-extended-snapshot-attributes:progress"
)

// snapshotView is Cinder's snapshot at microversion 3.0, with the extended attributes its
// default policy shows to the owner (progress is 100% once the driver made it).
func snapshotView(snap store.Snapshot) map[string]any {
	meta := snap.Metadata
	if meta == nil {
		meta = map[string]string{}
	}
	progress := "100%"
	if snap.Status == volume.StatusCreating || snap.Status == volume.StatusError {
		progress = "0%"
	}
	var updated any
	if !snap.UpdatedAt.IsZero() {
		updated = snap.UpdatedAt.UTC().Format(timeFormat)
	}
	return map[string]any{
		"id": snap.ID, "name": snap.Name, "description": snap.Description, "volume_id": snap.VolumeID,
		"status": string(snap.Status), "size": snap.SizeBytes / gibBytes, "metadata": meta,
		"created_at": snap.CreatedAt.UTC().Format(timeFormat), "updated_at": updated,
		projectAttr: snap.ProjectID, progressAttr: progress,
	}
}
