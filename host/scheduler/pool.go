package scheduler

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// GiB is 2³⁰ bytes, the unit Cinder's *_capacity_gb figures are in.
const GiB = 1 << 30

// Pool is one pool as the host sees it at decision time: the newest capability report of its
// backend (the host orders reports by the driver's sequence number), the host's claim ledger,
// and the operator's configuration for the backend.
type Pool struct {
	// Backend is the configured backend's name, unique in the deployment; Name is the pool's
	// name within it. Together they identify the pool (Cinder's host@backend#pool).
	Backend string
	Name    string
	// Zone is the backend's availability zone.
	Zone string
	// State is the pool's health; a Down pool is never chosen.
	State PoolState
	// Age is how long ago the host received the report; one older than Config.MaxAge makes
	// the pool unschedulable.
	Age time.Duration

	// TotalBytes and FreeBytes are physical, as reported. Unknown and Infinite mirror Cinder's
	// 'unknown' and 'infinite' capacity: when either is set both byte counts are ignored.
	TotalBytes int64
	FreeBytes  int64
	Unknown    bool
	Infinite   bool
	// ProvisionedBytes is the driver's sum of volume sizes (it may count volumes Kiln did not
	// create); 0 when the driver does not say.
	ProvisionedBytes int64
	// AllocatedBytes and Volumes come from the host's claim ledger: the sum of the sizes of
	// the volumes placed in this pool, and their number.
	AllocatedBytes int64
	Volumes        int64
	// Thin and Thick say which provisioning the pool offers.
	Thin  bool
	Thick bool
	// MaxOversubscription is the operator's max_over_subscription_ratio (the host resolves
	// config over the driver's hint); its zero value is Cinder's default, 20.
	MaxOversubscription Ratio
	// ReservedPercent is the operator's reserved_percentage, 0–100.
	ReservedPercent int
	// MinVolumeBytes and MaxVolumeBytes bound a volume's size; 0 means no bound.
	MinVolumeBytes int64
	MaxVolumeBytes int64

	// Features is what the pool supports.
	Features Features
	// VolumeBackendName is Cinder's volume_backend_name capability; empty means Backend.
	// Several backends may share one, so that a volume type selects them all.
	VolumeBackendName string
	// VendorName and DriverVersion are the driver's.
	VendorName    string
	DriverVersion string
	// Protocols are the storage protocols the pool serves ("iSCSI", "nvmeof", "file", …).
	Protocols []string
	// FilterFunction and GoodnessFunction are Cinder's filter_function and goodness_function
	// (see DriverFilter and GoodnessWeigher); empty means none.
	FilterFunction   string
	GoodnessFunction string
	// Attributes are the typed custom capabilities that extra specs match.
	Attributes map[string]Attribute
}

// Ref returns the pool's identity.
func (p *Pool) Ref() PoolRef { return PoolRef{Backend: p.Backend, Pool: p.Name} }

// backendName is the volume_backend_name capability.
func (p *Pool) backendName() string {
	if p.VolumeBackendName != "" {
		return p.VolumeBackendName
	}
	return p.Backend
}

// PoolRef names a pool: a backend and a pool in it.
type PoolRef struct {
	Backend string
	Pool    string
}

// String returns Cinder's spelling, backend#pool.
func (r PoolRef) String() string { return r.Backend + "#" + r.Pool }

// is reports whether r names p.
func (r PoolRef) is(p *Pool) bool { return r.Backend == p.Backend && r.Pool == p.Name }

// PoolState is a pool's health.
type PoolState int

// Pool states. The zero value is PoolUp; a degraded pool is still schedulable.
const (
	PoolUp PoolState = iota
	PoolDegraded
	PoolDown
)

// String returns up, degraded or down.
func (s PoolState) String() string {
	switch s {
	case PoolUp:
		return "up"
	case PoolDegraded:
		return "degraded"
	case PoolDown:
		return "down"
	}
	return "PoolState(" + strconv.Itoa(int(s)) + ")"
}

// DefaultOversubscription is Cinder's default max_over_subscription_ratio.
const DefaultOversubscription = 20.0

// Ratio is a max over-subscription ratio: a number, or Cinder's 'auto', which derives it from
// the pool's provisioned and used capacity (cinder.md §2.4). The zero value means
// DefaultOversubscription.
type Ratio struct {
	Value float64
	Auto  bool
}

// ParseRatio parses Cinder's spelling of max_over_subscription_ratio: "auto" or a number of at
// least 1.
func ParseRatio(s string) (Ratio, error) {
	s = strings.TrimSpace(s)
	if s == "auto" {
		return Ratio{Auto: true}, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 1 || v != v || v > 1e12 {
		return Ratio{}, fmt.Errorf("scheduler: max_over_subscription_ratio %q: want \"auto\" or a number ≥ 1", s)
	}
	return Ratio{Value: v}, nil
}

// String returns "auto" or the number.
func (r Ratio) String() string {
	if r.Auto {
		return "auto"
	}
	return strconv.FormatFloat(r.value(), 'g', -1, 64)
}

// value is the configured number, the default for the zero value.
func (r Ratio) value() float64 {
	if r.Value == 0 {
		return DefaultOversubscription
	}
	return r.Value
}
