package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/kilnstorage/kiln/host/store"
)

// Volume types and their extra specs (Cinder's types and types/{id}/extra_specs). Reading is
// open to every project (all types are public); changing is for admins.

func (s *Server) typeRoutes() {
	s.handle("GET /types", handler(s.listTypes))
	s.handle("POST /types", handler(s.createType))
	s.handle("GET /types/{id}", handler(s.showType))
	s.handle("PUT /types/{id}", handler(s.updateType))
	s.handle("DELETE /types/{id}", handler(s.deleteType))
	s.handle("GET /types/{id}/extra_specs", handler(s.listSpecs))
	s.handle("POST /types/{id}/extra_specs", handler(s.setSpecs))
	s.handle("GET /types/{id}/extra_specs/{key}", handler(s.showSpec))
	s.handle("PUT /types/{id}/extra_specs/{key}", handler(s.putSpec))
	s.handle("DELETE /types/{id}/extra_specs/{key}", handler(s.deleteSpec))
}

// publicSpecs are the extra specs Cinder shows to members; the rest (backend names, driver
// parameters) only admins see.
var publicSpecs = map[string]bool{"RESKEY:availability_zones": true, "multiattach": true, "replication_enabled": true}

func (s *Server) typeView(r *http.Request, vt store.VolumeType) map[string]any {
	admin := identity(r.Context()).Admin
	specs := map[string]string{}
	for k, v := range vt.ExtraSpecs {
		if admin || publicSpecs[k] {
			specs[k] = v
		}
	}
	return map[string]any{"id": vt.ID, "name": vt.Name, "description": vt.Description,
		"is_public": vt.IsPublic, "os-volume-type-access:is_public": vt.IsPublic,
		"extra_specs": specs, "qos_specs_id": nil}
}

// lookupType finds a type by ID, by name, or "default".
func (s *Server) lookupType(ctx context.Context, idOrName string) (store.VolumeType, *Fault) {
	if idOrName == "default" {
		idOrName = store.DefaultTypeName
	}
	vt, err := s.opts.Store.VolumeType(ctx, idOrName)
	if errors.Is(err, store.ErrNotFound) {
		vt, err = s.opts.Store.VolumeTypeByName(ctx, idOrName)
	}
	if errors.Is(err, store.ErrNotFound) {
		return vt, faultf(http.StatusNotFound, "Volume type "+idOrName+" could not be found.")
	}
	if err != nil {
		return vt, storeFault(err)
	}
	return vt, nil
}

func (s *Server) listTypes(r *http.Request) (int, any, *Fault) {
	types, err := s.opts.Store.VolumeTypes(r.Context())
	if err != nil {
		return 0, nil, storeFault(err)
	}
	views := make([]any, 0, len(types))
	for _, vt := range types {
		views = append(views, s.typeView(r, vt))
	}
	return http.StatusOK, map[string]any{"volume_types": views}, nil
}

func (s *Server) showType(r *http.Request) (int, any, *Fault) {
	vt, fault := s.lookupType(r.Context(), r.PathValue("id"))
	if fault != nil {
		return 0, nil, fault
	}
	return http.StatusOK, map[string]any{"volume_type": s.typeView(r, vt)}, nil
}

type typeBody struct {
	VolumeType struct {
		Name        *string           `json:"name"`
		Description *string           `json:"description"`
		IsPublic    *bool             `json:"is_public"`
		AccessOld   *bool             `json:"os-volume-type-access:is_public"`
		ExtraSpecs  map[string]string `json:"extra_specs"`
	} `json:"volume_type"`
}

func (s *Server) createType(r *http.Request) (int, any, *Fault) {
	if fault := adminOnly(r); fault != nil {
		return 0, nil, fault
	}
	var body typeBody
	if fault := decode(r, &body); fault != nil {
		return 0, nil, fault
	}
	in := body.VolumeType
	if in.Name == nil || *in.Name == "" || len(*in.Name) > 255 {
		return 0, nil, faultf(http.StatusBadRequest, "Volume type name must be 1 to 255 characters.")
	}
	vt := store.VolumeType{Name: *in.Name, IsPublic: true, ExtraSpecs: in.ExtraSpecs}
	if in.Description != nil {
		vt.Description = *in.Description
	}
	if in.IsPublic != nil && !*in.IsPublic || in.AccessOld != nil && !*in.AccessOld {
		return 0, nil, faultf(http.StatusBadRequest, "Private volume types are not supported.")
	}
	created, err := s.opts.Store.CreateVolumeType(r.Context(), vt)
	if err != nil {
		return 0, nil, storeFault(err)
	}
	return http.StatusOK, map[string]any{"volume_type": s.typeView(r, created)}, nil
}

func (s *Server) updateType(r *http.Request) (int, any, *Fault) {
	if fault := adminOnly(r); fault != nil {
		return 0, nil, fault
	}
	vt, fault := s.lookupType(r.Context(), r.PathValue("id"))
	if fault != nil {
		return 0, nil, fault
	}
	var body typeBody
	if fault := decode(r, &body); fault != nil {
		return 0, nil, fault
	}
	in := body.VolumeType
	if in.Name == nil && in.Description == nil && in.IsPublic == nil {
		return 0, nil, faultf(http.StatusBadRequest, "Specify a name, a description or is_public to update.")
	}
	if in.ExtraSpecs != nil {
		return 0, nil, faultf(http.StatusBadRequest, "Extra specs are changed through types/{id}/extra_specs.")
	}
	if in.Name != nil {
		vt.Name = *in.Name
	}
	if in.Description != nil {
		vt.Description = *in.Description
	}
	if err := s.opts.Store.UpdateVolumeType(r.Context(), vt); err != nil {
		return 0, nil, storeFault(err)
	}
	return s.showType(r)
}

func (s *Server) deleteType(r *http.Request) (int, any, *Fault) {
	if fault := adminOnly(r); fault != nil {
		return 0, nil, fault
	}
	vt, fault := s.lookupType(r.Context(), r.PathValue("id"))
	if fault != nil {
		return 0, nil, fault
	}
	if err := s.opts.Store.DeleteVolumeType(r.Context(), vt.ID); err != nil {
		return 0, nil, storeFault(err)
	}
	return http.StatusAccepted, nil, nil
}
