package api

import (
	"net/http"
)

func (s *Server) listSpecs(r *http.Request) (int, any, *Fault) {
	vt, fault := s.lookupType(r.Context(), r.PathValue("id"))
	if fault != nil {
		return 0, nil, fault
	}
	return http.StatusOK, map[string]any{"extra_specs": s.typeView(r, vt)["extra_specs"]}, nil
}

func (s *Server) setSpecs(r *http.Request) (int, any, *Fault) {
	if fault := adminOnly(r); fault != nil {
		return 0, nil, fault
	}
	vt, fault := s.lookupType(r.Context(), r.PathValue("id"))
	if fault != nil {
		return 0, nil, fault
	}
	var body struct {
		ExtraSpecs map[string]string `json:"extra_specs"`
	}
	if fault := decode(r, &body); fault != nil {
		return 0, nil, fault
	}
	if len(body.ExtraSpecs) == 0 {
		return 0, nil, faultf(http.StatusBadRequest, "extra_specs must name at least one key.")
	}
	for k, v := range body.ExtraSpecs {
		if k == "" || len(k) > 255 || len(v) > 255 {
			return 0, nil, faultf(http.StatusBadRequest, "Extra spec keys and values must be 1 to 255 characters.")
		}
	}
	if err := s.opts.Store.SetExtraSpecs(r.Context(), vt.ID, body.ExtraSpecs); err != nil {
		return 0, nil, storeFault(err)
	}
	return http.StatusOK, map[string]any{"extra_specs": body.ExtraSpecs}, nil
}

func (s *Server) showSpec(r *http.Request) (int, any, *Fault) {
	vt, fault := s.lookupType(r.Context(), r.PathValue("id"))
	if fault != nil {
		return 0, nil, fault
	}
	key := r.PathValue("key")
	v, ok := vt.ExtraSpecs[key]
	if !ok || !identity(r.Context()).Admin && !publicSpecs[key] {
		return 0, nil, faultf(http.StatusNotFound, "Volume type "+vt.ID+" has no extra spec "+key+".")
	}
	return http.StatusOK, map[string]string{key: v}, nil
}

func (s *Server) putSpec(r *http.Request) (int, any, *Fault) {
	if fault := adminOnly(r); fault != nil {
		return 0, nil, fault
	}
	vt, fault := s.lookupType(r.Context(), r.PathValue("id"))
	if fault != nil {
		return 0, nil, fault
	}
	var body map[string]string
	if fault := decode(r, &body); fault != nil {
		return 0, nil, fault
	}
	key := r.PathValue("key")
	v, ok := body[key]
	if len(body) != 1 || !ok {
		return 0, nil, faultf(http.StatusBadRequest, "The body must hold exactly the key "+key+".")
	}
	if err := s.opts.Store.SetExtraSpecs(r.Context(), vt.ID, body); err != nil {
		return 0, nil, storeFault(err)
	}
	return http.StatusOK, map[string]string{key: v}, nil
}

func (s *Server) deleteSpec(r *http.Request) (int, any, *Fault) {
	if fault := adminOnly(r); fault != nil {
		return 0, nil, fault
	}
	vt, fault := s.lookupType(r.Context(), r.PathValue("id"))
	if fault != nil {
		return 0, nil, fault
	}
	if err := s.opts.Store.DeleteExtraSpec(r.Context(), vt.ID, r.PathValue("key")); err != nil {
		return 0, nil, storeFault(err)
	}
	return http.StatusAccepted, nil, nil
}
