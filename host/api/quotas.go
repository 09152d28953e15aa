package api

import (
	"net/http"
	"strconv"

	"github.com/kilnstorage/kiln/host/store"
)

// Quota sets (os-quota-sets) and limits, in Cinder's shapes. A project reads its own; an admin
// reads and changes any.

func (s *Server) quotaRoutes() {
	s.handle("GET /os-quota-sets/{target}", handler(s.showQuotas))
	s.handle("GET /os-quota-sets/{target}/defaults", handler(s.defaultQuotas))
	s.handle("PUT /os-quota-sets/{target}", handler(s.updateQuotas))
	s.handle("DELETE /os-quota-sets/{target}", handler(s.resetQuotas))
	s.handle("GET /limits", handler(s.limits))
}

// target is the project a quota call is about; members may only ask about their own.
func target(r *http.Request) (string, *Fault) {
	id, p := identity(r.Context()), r.PathValue("target")
	if p != id.Project && !id.Admin {
		return "", faultf(http.StatusForbidden, "Policy doesn't allow this operation to be performed.")
	}
	return p, nil
}

func (s *Server) showQuotas(r *http.Request) (int, any, *Fault) {
	project, fault := target(r)
	if fault != nil {
		return 0, nil, fault
	}
	usage, err := s.opts.Store.QuotaUsage(r.Context(), project)
	if err != nil {
		return 0, nil, storeFault(err)
	}
	set := map[string]any{"id": project}
	withUsage := r.URL.Query().Get("usage") == "true" || r.URL.Query().Get("usage") == "True"
	for res, u := range usage {
		if withUsage {
			set[res] = map[string]int64{"limit": u.Limit, "in_use": u.InUse, "reserved": u.Reserved, "allocated": 0}
		} else {
			set[res] = u.Limit
		}
	}
	return http.StatusOK, map[string]any{"quota_set": set}, nil
}

func (s *Server) defaultQuotas(r *http.Request) (int, any, *Fault) {
	project, fault := target(r)
	if fault != nil {
		return 0, nil, fault
	}
	limits, err := s.opts.Store.DefaultQuotaLimits(r.Context())
	if err != nil {
		return 0, nil, storeFault(err)
	}
	return http.StatusOK, map[string]any{"quota_set": limitsView(project, limits)}, nil
}

func limitsView(project string, l store.Limits) map[string]any {
	set := map[string]any{"id": project}
	for res, v := range l {
		set[res] = v
	}
	return set
}

func (s *Server) updateQuotas(r *http.Request) (int, any, *Fault) {
	if fault := adminOnly(r); fault != nil {
		return 0, nil, fault
	}
	var body struct {
		QuotaSet map[string]any `json:"quota_set"`
	}
	if fault := decode(r, &body); fault != nil {
		return 0, nil, fault
	}
	limits, fault := parseLimits(body.QuotaSet)
	if fault != nil {
		return 0, nil, fault
	}
	project := r.PathValue("target")
	if err := s.opts.Store.SetQuotaLimits(r.Context(), project, limits); err != nil {
		return 0, nil, storeFault(err)
	}
	all, err := s.opts.Store.QuotaLimits(r.Context(), project)
	if err != nil {
		return 0, nil, storeFault(err)
	}
	set := limitsView(project, all)
	delete(set, "id")
	return http.StatusOK, map[string]any{"quota_set": set}, nil
}

// parseLimits reads limits written as numbers or numeric strings, each -1 or more.
func parseLimits(in map[string]any) (store.Limits, *Fault) {
	if len(in) == 0 {
		return nil, faultf(http.StatusBadRequest, "quota_set must name at least one resource.")
	}
	out := store.Limits{}
	for res, v := range in {
		var n int64
		var err error
		switch v := v.(type) {
		case float64:
			n, err = int64(v), nil
			if float64(n) != v {
				err = strconv.ErrSyntax
			}
		case string:
			n, err = strconv.ParseInt(v, 10, 64)
		default:
			err = strconv.ErrSyntax
		}
		if err != nil || n < -1 {
			return nil, faultf(http.StatusBadRequest, "Quota limit "+res+" must be an integer of -1 or more.")
		}
		out[res] = n
	}
	return out, nil
}

func (s *Server) resetQuotas(r *http.Request) (int, any, *Fault) {
	if fault := adminOnly(r); fault != nil {
		return 0, nil, fault
	}
	if err := s.opts.Store.ResetQuotaLimits(r.Context(), r.PathValue("target")); err != nil {
		return 0, nil, storeFault(err)
	}
	return http.StatusOK, nil, nil
}

func (s *Server) limits(r *http.Request) (int, any, *Fault) {
	project := identity(r.Context()).Project
	usage, err := s.opts.Store.QuotaUsage(r.Context(), project)
	if err != nil {
		return 0, nil, storeFault(err)
	}
	abs := map[string]int64{}
	for res, names := range map[string][2]string{
		store.Volumes:         {"maxTotalVolumes", "totalVolumesUsed"},
		store.Gigabytes:       {"maxTotalVolumeGigabytes", "totalGigabytesUsed"},
		store.Snapshots:       {"maxTotalSnapshots", "totalSnapshotsUsed"},
		store.Backups:         {"maxTotalBackups", "totalBackupsUsed"},
		store.BackupGigabytes: {"maxTotalBackupGigabytes", "totalBackupGigabytesUsed"},
	} {
		abs[names[0]], abs[names[1]] = usage[res].Limit, usage[res].InUse
	}
	return http.StatusOK, map[string]any{"limits": map[string]any{"rate": []any{}, "absolute": abs}}, nil
}
