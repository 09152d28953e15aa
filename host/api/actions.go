package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/kilnstorage/kiln/host/flow"
	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/volume"
	"github.com/kilnstorage/kiln/host/volume/flows"
)

// Volume and snapshot actions (POST …/action): os-extend for owners; os-reset_status and
// os-force_delete for admins, on volumes and snapshots. Each answers 202 with no body.

func (s *Server) actionRoutes() {
	s.handle("POST /volumes/{id}/action", handler(s.volumeAction))
	s.handle("POST /snapshots/{id}/action", handler(s.snapshotAction))
}

// action reads a body holding exactly one action, {"<name>": <argument>}.
func action(r *http.Request) (string, json.RawMessage, *Fault) {
	var body map[string]json.RawMessage
	if fault := decode(r, &body); fault != nil {
		return "", nil, fault
	}
	if len(body) != 1 {
		return "", nil, faultf(http.StatusBadRequest, "Malformed request body: exactly one action is required.")
	}
	for name, arg := range body {
		return name, arg, nil
	}
	return "", nil, nil
}

// decodeArg decodes an action's argument strictly into v.
func decodeArg(name string, raw json.RawMessage, v any) *Fault {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil || dec.Decode(&struct{}{}) != io.EOF {
		msg := "a JSON object is required"
		if err != nil {
			msg = err.Error()
		}
		return faultf(http.StatusBadRequest, fmt.Sprintf("Invalid input for %s: %s.", name, msg))
	}
	return nil
}

func noSuchAction(name string) *Fault {
	return faultf(http.StatusBadRequest, "There is no such action: "+name)
}

func (s *Server) volumeAction(r *http.Request) (int, any, *Fault) {
	name, arg, fault := action(r)
	if fault != nil {
		return 0, nil, fault
	}
	switch name {
	case "os-extend":
		return s.extendVolume(r, arg)
	case "os-reset_status":
		return s.resetVolumeStatus(r, arg)
	case "os-force_delete":
		return s.forceDeleteVolume(r)
	}
	return 0, nil, noSuchAction(name)
}

// extendVolume runs the extend flow. Refusals before the volume changed are answered (400
// status or size, 404, 413 quota); afterwards the outcome is in the volume's status, as in
// Cinder, where the scheduler and the volume manager finish the extend after the 202.
func (s *Server) extendVolume(r *http.Request, arg json.RawMessage) (int, any, *Fault) {
	var in struct {
		NewSize *json.Number `json:"new_size"`
	}
	if fault := decodeArg("os-extend", arg, &in); fault != nil {
		return 0, nil, fault
	}
	if in.NewSize == nil {
		return 0, nil, faultf(http.StatusBadRequest, "Invalid input for field/attribute new_size: new_size is required.")
	}
	size, err := strconv.ParseInt(in.NewSize.String(), 10, 64)
	if err != nil || size <= 0 || size > 1<<31-1 {
		return 0, nil, faultf(http.StatusBadRequest, "Invalid input for field/attribute new_size. Value: "+
			in.NewSize.String()+". new_size must be an integer from 1 to 2147483647 (GiB).")
	}
	id := r.PathValue("id")
	err = s.opts.Volumes.ExtendVolume(r.Context(), scope(r), identity(r.Context()).Project, id, size)
	var over *store.OverQuotaError
	switch {
	case errors.As(err, &over) && over.Resource == store.PerVolumeGigabytes:
		return 0, nil, faultf(http.StatusRequestEntityTooLarge, "VolumeSizeExceedsLimit: "+over.Error())
	case errors.As(err, &over) && over.Resource != store.Volumes:
		return 0, nil, faultf(http.StatusRequestEntityTooLarge, "VolumeSizeExceedsAvailableQuota: "+over.Error())
	case errors.Is(err, flows.ErrExtendSize):
		return 0, nil, faultf(http.StatusBadRequest, "Invalid input received: "+
			strings.TrimPrefix(err.Error(), flows.ErrInvalidRequest.Error()+": "))
	}
	return lifecycleAnswer(err, id)
}

// lifecycleAnswer maps the error of a flow that changes a volume: nil, or a flow that got past
// its first steps (its outcome is in the volume's status) → 202; a refused transition → 400
// naming the allowed statuses (Cinder's InvalidVolume).
func lifecycleAnswer(err error, id string) (int, any, *Fault) {
	var te *volume.TransitionError
	var began *flow.TaskError
	switch {
	case err == nil, errors.As(err, &began):
		return http.StatusAccepted, nil, nil
	case errors.As(err, &te):
		return 0, nil, faultf(http.StatusBadRequest, "Invalid volume: "+te.Error())
	case errors.Is(err, flows.ErrInvalidRequest) && !errors.Is(err, store.ErrNotFound):
		return 0, nil, faultf(http.StatusBadRequest, "Invalid input received: "+err.Error())
	}
	return 0, nil, volumeNotFound(err, id)
}

// resetBody is os-reset_status's argument. Kiln has no attachments and no migrations, so
// attach_status may only be detached and migration_status only none (what they always are).
type resetBody struct {
	Status          *string `json:"status"`
	AttachStatus    *string `json:"attach_status"`
	MigrationStatus *string `json:"migration_status"`
}

func (s *Server) resetVolumeStatus(r *http.Request, arg json.RawMessage) (int, any, *Fault) {
	if fault := adminOnly(r); fault != nil {
		return 0, nil, fault
	}
	var in resetBody
	if fault := decodeArg("os-reset_status", arg, &in); fault != nil {
		return 0, nil, fault
	}
	if fault := checkFixed("attach_status", in.AttachStatus, "detached"); fault != nil {
		return 0, nil, fault
	}
	if fault := checkFixed("migration_status", in.MigrationStatus, "none"); fault != nil {
		return 0, nil, fault
	}
	if in.Status == nil {
		if in.AttachStatus == nil && in.MigrationStatus == nil {
			return 0, nil, faultf(http.StatusBadRequest, "Must specify 'status', 'attach_status' or 'migration_status' for update.")
		}
		_, err := s.opts.Store.Volume(r.Context(), store.AllProjects(), r.PathValue("id"))
		return s.resetAnswer(err, volume.KindVolume, r.PathValue("id"))
	}
	tr, err := volume.ResetStatus(volume.KindVolume, volume.Status(*in.Status))
	if err != nil {
		return 0, nil, faultf(http.StatusBadRequest, "Invalid input for field/attribute status. Value: "+*in.Status+". "+err.Error())
	}
	_, err = s.opts.Store.TransitionVolume(r.Context(), store.AllProjects(), r.PathValue("id"), tr, store.VolumeChange{})
	return s.resetAnswer(err, volume.KindVolume, r.PathValue("id"))
}

// checkFixed accepts an absent value or the only one Kiln has.
func checkFixed(field string, v *string, only string) *Fault {
	if v == nil || *v == only || (only == "none" && *v == "") {
		return nil
	}
	return faultf(http.StatusBadRequest, fmt.Sprintf("Invalid input for field/attribute %s. Value: %s. "+
		"Kiln has no attachments or migrations: only %q is accepted.", field, *v, only))
}

func (s *Server) resetAnswer(err error, k volume.Kind, id string) (int, any, *Fault) {
	var te *volume.TransitionError
	switch {
	case err == nil:
		return http.StatusAccepted, nil, nil
	case errors.As(err, &te):
		return 0, nil, faultf(http.StatusBadRequest, "Invalid "+string(k)+": "+te.Error())
	case k == volume.KindSnapshot && errors.Is(err, store.ErrNotFound):
		return 0, nil, faultf(http.StatusNotFound, "Snapshot "+id+" could not be found.")
	}
	return 0, nil, volumeNotFound(err, id)
}

// forceDeleteVolume runs the delete flow from any status (the volume must have no snapshots).
func (s *Server) forceDeleteVolume(r *http.Request) (int, any, *Fault) {
	if fault := adminOnly(r); fault != nil {
		return 0, nil, fault
	}
	id := r.PathValue("id")
	err := s.opts.Volumes.DeleteVolume(r.Context(), store.AllProjects(), identity(r.Context()).Project, id,
		flows.DeleteOptions{Force: true})
	return deleteAnswer(err, id, true)
}

// deleteAnswer maps a delete's error; a refusal reads as Cinder's, with Kiln's reason after it.
func deleteAnswer(err error, id string, force bool) (int, any, *Fault) {
	var te *volume.TransitionError
	if !errors.As(err, &te) || errors.As(err, new(*flow.TaskError)) {
		return lifecycleAnswer(err, id)
	}
	status := ""
	if !force {
		status = " status must be " + orList(te.Expected) + " and"
	}
	return 0, nil, faultf(http.StatusBadRequest, "Invalid volume: Volume"+status+" must not be migrating, "+
		"attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from "+
		"snapshots after volume transfer. ("+te.Error()+")")
}

// orList is Cinder's build_or_str: "available or error".
func orList(set []volume.Status) string {
	out := ""
	for i, st := range set {
		if i > 0 {
			out += " or "
		}
		out += string(st)
	}
	return out
}

func (s *Server) snapshotAction(r *http.Request) (int, any, *Fault) {
	name, arg, fault := action(r)
	if fault != nil {
		return 0, nil, fault
	}
	if !slices.Contains([]string{"os-reset_status", "os-force_delete"}, name) {
		return 0, nil, noSuchAction(name)
	}
	if fault := adminOnly(r); fault != nil {
		return 0, nil, fault
	}
	id := r.PathValue("id")
	if name == "os-force_delete" {
		err := s.opts.Volumes.ForceDeleteSnapshot(r.Context(), store.AllProjects(), identity(r.Context()).Project, id)
		if errors.As(err, new(*flow.TaskError)) {
			return http.StatusAccepted, nil, nil
		}
		return s.resetAnswer(err, volume.KindSnapshot, id)
	}
	var in struct {
		Status *string `json:"status"`
	}
	if fault := decodeArg(name, arg, &in); fault != nil {
		return 0, nil, fault
	}
	if in.Status == nil {
		return 0, nil, faultf(http.StatusBadRequest, "Invalid input for field/attribute status: status is required.")
	}
	tr, err := volume.ResetStatus(volume.KindSnapshot, volume.Status(*in.Status))
	if err != nil {
		return 0, nil, faultf(http.StatusBadRequest, "Invalid input for field/attribute status. Value: "+*in.Status+". "+err.Error())
	}
	_, err = s.opts.Store.TransitionSnapshot(r.Context(), store.AllProjects(), id, tr, store.SnapshotChange{})
	return s.resetAnswer(err, volume.KindSnapshot, id)
}
