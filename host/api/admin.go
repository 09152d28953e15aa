package api

import (
	"net/http"
	"slices"
	"time"

	"github.com/kilnstorage/kiln/host/store"
)

// serviceDownTime is Cinder's service_down_time: a service with no heartbeat for longer is down.
const serviceDownTime = 60 * time.Second

func (s *Server) adminRoutes() {
	s.handle("GET /scheduler-stats/get_pools", handler(s.pools))
	s.handle("GET /os-services", handler(s.services))
	s.handle("GET /os-availability-zone", handler(s.zones))
}

const gib = float64(1 << 30)

// pools answers scheduler-stats/get_pools (admin): every pool as backend#pool, and with
// detail=true its capabilities as Cinder reports them, in GiB.
func (s *Server) pools(r *http.Request) (int, any, *Fault) {
	if fault := adminOnly(r); fault != nil {
		return 0, nil, fault
	}
	pools, err := s.opts.Store.Pools(r.Context())
	if err != nil {
		return 0, nil, storeFault(err)
	}
	detail := r.URL.Query().Get("detail") == "true" || r.URL.Query().Get("detail") == "True"
	out := make([]any, 0, len(pools))
	for _, p := range pools {
		view := map[string]any{"name": p.Backend + "#" + p.Report.Name}
		if detail {
			view["capabilities"] = capabilities(p)
		}
		out = append(out, view)
	}
	return http.StatusOK, map[string]any{"pools": out}, nil
}

func capabilities(p store.PoolState) map[string]any {
	rep := p.Report
	c := map[string]any{
		"pool_name": rep.Name, "volume_backend_name": p.Backend,
		"total_capacity_gb": float64(rep.TotalBytes) / gib, "free_capacity_gb": float64(rep.FreeBytes) / gib,
		"provisioned_capacity_gb":    float64(max(rep.ProvisionedBytes, p.ClaimedBytes)) / gib,
		"allocated_capacity_gb":      float64(p.ClaimedBytes) / gib,
		"total_volumes":              p.ClaimedVolumes,
		"reserved_percentage":        p.ReservedPercentage,
		"thin_provisioning_support":  rep.Thin,
		"thick_provisioning_support": rep.Thick,
		"availability_zone":          p.AvailabilityZone,
		"vendor_name":                p.Info.VendorName,
		"driver_version":             p.Info.DriverVersion,
		"state":                      rep.State.String(),
		"timestamp":                  p.ReceivedAt.UTC().Format("2006-01-02T15:04:05.000000"),
	}
	if p.Info.VolumeBackendName != "" {
		c["volume_backend_name"] = p.Info.VolumeBackendName
	}
	switch {
	case rep.CapacityInfinite:
		c["total_capacity_gb"], c["free_capacity_gb"] = "infinite", "infinite"
	case rep.CapacityUnknown:
		c["total_capacity_gb"], c["free_capacity_gb"] = "unknown", "unknown"
	}
	if p.MaxOverSubscriptionRatio != "" {
		c["max_over_subscription_ratio"] = p.MaxOverSubscriptionRatio
	}
	if f := rep.Features; f != nil && len(f.Protocols) > 0 {
		c["storage_protocol"] = f.Protocols[0]
	}
	return c
}

// services answers os-services (admin): each service with its state from its last heartbeat.
func (s *Server) services(r *http.Request) (int, any, *Fault) {
	if fault := adminOnly(r); fault != nil {
		return 0, nil, fault
	}
	services, err := s.opts.Store.Services(r.Context())
	if err != nil {
		return 0, nil, storeFault(err)
	}
	out := make([]any, 0, len(services))
	for _, svc := range services {
		status, state := "enabled", "up"
		if svc.Disabled {
			status = "disabled"
		}
		if time.Since(svc.UpdatedAt) > serviceDownTime {
			state = "down"
		}
		out = append(out, map[string]any{"binary": svc.Binary, "host": svc.Host,
			"zone": svc.AvailabilityZone, "status": status, "state": state,
			"updated_at":      svc.UpdatedAt.UTC().Format("2006-01-02T15:04:05.000000"),
			"disabled_reason": nilIfEmpty(svc.DisabledReason)})
	}
	return http.StatusOK, map[string]any{"services": out}, nil
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// zones answers os-availability-zone: the configured zones, each available.
func (s *Server) zones(r *http.Request) (int, any, *Fault) {
	zones := slices.Clone(s.opts.Zones)
	slices.Sort(zones)
	out := make([]any, 0, len(zones))
	for _, z := range slices.Compact(zones) {
		out = append(out, map[string]any{"zoneName": z, "zoneState": map[string]bool{"available": true}})
	}
	return http.StatusOK, map[string]any{"availabilityZoneInfo": out}, nil
}
