package scheduler

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Filter and weigher names: Cinder's class names, so that an operator's list reads the same.
const (
	filterZone         = "AvailabilityZoneFilter"
	filterCapacity     = "CapacityFilter"
	filterCapabilities = "CapabilitiesFilter"
	filterAttempted    = "IgnoreAttemptedHostsFilter"
	filterDifferent    = "DifferentBackendFilter"
	filterSame         = "SameBackendFilter"
	filterJSON         = "JsonFilter"
	filterDriver       = "DriverFilter"

	weigherCapacity  = "CapacityWeigher"
	weigherAllocated = "AllocatedCapacityWeigher"
	weigherVolumes   = "VolumeNumberWeigher"
	weigherGoodness  = "GoodnessWeigher"
	weigherChance    = "ChanceWeigher"
)

// DefaultMaxAge is the default Config.MaxAge: three times Cinder's 60-second polling interval
// (cinder.md §9 item 2).
const DefaultMaxAge = 3 * time.Minute

// ErrInvalidConfig is wrapped by the errors of Config.Validate.
var ErrInvalidConfig = errors.New("scheduler: invalid config")

// Config is the scheduler's configuration. Its zero value is Cinder's defaults plus
// IgnoreAttemptedHostsFilter and DefaultMaxAge.
type Config struct {
	// Filters are the enabled filters, by Cinder class name, run in order; nil means
	// DefaultFilters (an empty, non-nil list runs none).
	Filters []string
	// Weighers are the enabled weighers; nil means DefaultWeighers.
	Weighers []Weigher
	// MaxAge makes a pool whose report is older unschedulable; 0 means DefaultMaxAge and a
	// negative value disables the limit.
	MaxAge time.Duration
	// TopK picks uniformly at random among the k best pools, to spread bursts of requests
	// made between two reports; 0 or 1 picks the best (Cinder's deterministic top-1).
	TopK int
	// Rand is the source of TopK's draw and of ChanceWeigher; nil uses math/rand/v2's global
	// source. A *rand.Rand is not safe for concurrent use: give each goroutine its own.
	Rand *rand.Rand
}

// Weigher is one enabled weigher: its Cinder class name and its multiplier. A zero Multiplier
// means the weigher's Cinder default: 1 for CapacityWeigher, GoodnessWeigher and
// ChanceWeigher, −1 for AllocatedCapacityWeigher and VolumeNumberWeigher. To silence a
// weigher, leave it out.
type Weigher struct {
	Name       string
	Multiplier float64
}

// DefaultFilters returns Cinder's default filters followed by IgnoreAttemptedHostsFilter,
// which Cinder leaves off (cinder.md §8: a reschedule could retry the same pool).
func DefaultFilters() []string {
	return []string{filterZone, filterCapacity, filterCapabilities, filterAttempted}
}

// DefaultWeighers returns Cinder's default: CapacityWeigher with multiplier 1.
func DefaultWeighers() []Weigher {
	return []Weigher{{Name: weigherCapacity, Multiplier: 1}}
}

// Validate reports an unknown filter or weigher name, or a negative TopK.
func (c Config) Validate() error {
	for _, f := range c.filters() {
		switch f {
		case filterZone, filterCapacity, filterCapabilities, filterAttempted,
			filterDifferent, filterSame, filterJSON, filterDriver:
		default:
			return fmt.Errorf("%w: unknown filter %q", ErrInvalidConfig, f)
		}
	}
	for _, w := range c.weighers() {
		if defaultMultiplier(w.Name) == 0 {
			return fmt.Errorf("%w: unknown weigher %q", ErrInvalidConfig, w.Name)
		}
	}
	if c.TopK < 0 {
		return fmt.Errorf("%w: top_k %d is negative", ErrInvalidConfig, c.TopK)
	}
	return nil
}

func (c Config) filters() []string {
	if c.Filters == nil {
		return DefaultFilters()
	}
	return c.Filters
}

func (c Config) weighers() []Weigher {
	if c.Weighers == nil {
		return DefaultWeighers()
	}
	return c.Weighers
}

func (c Config) maxAge() time.Duration {
	if c.MaxAge == 0 {
		return DefaultMaxAge
	}
	return c.MaxAge
}

// multiplier is the weigher's multiplier, its default when zero.
func (w Weigher) multiplier() float64 {
	if w.Multiplier == 0 {
		return defaultMultiplier(w.Name)
	}
	return w.Multiplier
}

// defaultMultiplier is the Cinder default of a weigher's multiplier; 0 for an unknown name.
func defaultMultiplier(name string) float64 {
	switch name {
	case weigherCapacity, weigherGoodness, weigherChance:
		return 1
	case weigherAllocated, weigherVolumes:
		return -1
	}
	return 0
}

// float64 draws a number in [0, 1) from the configured source.
func (c Config) float64() float64 {
	if c.Rand != nil {
		return c.Rand.Float64()
	}
	return rand.Float64()
}

// intN draws an integer in [0, n) from the configured source.
func (c Config) intN(n int) int {
	if c.Rand != nil {
		return c.Rand.IntN(n)
	}
	return rand.IntN(n)
}
