package scheduler

// Request is what is to be placed: one volume and what it requires.
type Request struct {
	// Size is the volume's size in bytes: what the pool must have room for. 0 (Cinder's manage)
	// passes every capacity check.
	Size int64
	// VolumeSize, when set, is the size the volume will have, which the pool's minimum and
	// maximum volume sizes apply to: an extend needs room for its growth (Size) but is bounded
	// as the volume it makes. 0 means Size.
	VolumeSize int64
	// Zone is the volume's availability zone; empty means any. Zones, when set, are the zones
	// the volume type allows and take precedence (Cinder's request_spec.availability_zones).
	Zone  string
	Zones []string
	// ExtraSpecs are the volume type's extra specs, matched by CapabilitiesFilter and read by
	// the filter and goodness functions as extra.*.
	ExtraSpecs map[string]string
	// Provisioning is the provisioning asked for; ProvisionAny takes it from the extra spec
	// provisioning:type ("thin" or "thick").
	Provisioning Provisioning
	// Requires are the features the operation needs (for example FeatureMultiattach for a
	// multiattach type); pools lacking any fail CapabilitiesFilter.
	Requires Features
	// Hints are the scheduler hints.
	Hints Hints
	// Attempted are the pools earlier attempts of this request failed on; with
	// IgnoreAttemptedHostsFilter (on by default) they are not chosen again.
	Attempted []PoolRef
	// Only, when its Backend is set, restricts the choice to that backend, and to its pool
	// Only.Pool when that is set too: where the source of a clone or of a create from snapshot
	// lives. The caller decides the pool from the source pool's FeatureCloneAcrossPools.
	Only PoolRef
}

// Hints are Cinder's scheduler hints, resolved by the caller.
type Hints struct {
	// DifferentBackend lists the backends of the volumes of the different_host hint; the
	// pool's backend must be none of them.
	DifferentBackend []string
	// SameBackend lists the backends of the volumes of the same_host hint; the pool's backend
	// must be one of them.
	SameBackend []string
	// Query is the query hint: a JsonFilter query, as JSON.
	Query string
}

// Provisioning is the provisioning a request asks for.
type Provisioning uint8

// Provisioning types.
const (
	// ProvisionAny is thin where the pool supports it, thick elsewhere (Cinder without
	// provisioning:type, or with any value other than thick).
	ProvisionAny Provisioning = iota
	// ProvisionThin requires thin provisioning.
	ProvisionThin
	// ProvisionThick requires thick provisioning.
	ProvisionThick
)

// String returns any, thin or thick.
func (p Provisioning) String() string {
	switch p {
	case ProvisionThin:
		return "thin"
	case ProvisionThick:
		return "thick"
	}
	return "any"
}

// provisioning is the request's provisioning, from the extra spec when not set.
func (r *Request) provisioning() Provisioning {
	if r.Provisioning != ProvisionAny {
		return r.Provisioning
	}
	switch r.ExtraSpecs["provisioning:type"] {
	case "thin":
		return ProvisionThin
	case "thick":
		return ProvisionThick
	}
	return ProvisionAny
}
