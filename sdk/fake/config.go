package fake

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/kilnstorage/kiln/sdk"
)

// Config is the fake driver's configuration. Its zero value apart from StateDir is a working
// backend with the two default pools.
type Config struct {
	StateDir string `kiln:"state_dir,required" doc:"Directory of the state files, <backend>.json (a snapshot) and <backend>.log (the changes since), fake.* without a backend name; created if missing."`
	Pools    []Pool `kiln:"pool" doc:"Pools to report. Without any: fast (thick, 100GiB) and slow (thin, 1TiB, over-subscription 20)."`
	// Latency maps an operation name (Ops) to a duration such as "200ms".
	Latency  map[string]string `kiln:"latency" doc:"Delay per operation name, e.g. {create_volume = \"200ms\"}."`
	Failures []Failure         `kiln:"failure" doc:"Failures to inject."`
	Bugs     []string          `kiln:"bugs" doc:"Seeded bugs to switch on, by name."`
	// APIKey stands for a real backend's credential: the fake never uses it, and the SDK keeps
	// it out of logs and configuration echoes.
	APIKey string `kiln:"api_key,secret" doc:"Backend credential (unused by the fake; redacted in echoes)."`
}

// Pool configures one pool.
type Pool struct {
	Name  string       `kiln:"name,required" doc:"Pool name."`
	Total sdk.ByteSize `kiln:"total" default:"100GiB" doc:"Physical size."`
	// Thin and Thick say which provisioning the pool offers; with neither, it is thick.
	Thin        bool         `kiln:"thin" doc:"Offers thin provisioning."`
	Thick       bool         `kiln:"thick" doc:"Offers thick provisioning; implied when thin is not set."`
	Granularity sdk.ByteSize `kiln:"granularity" default:"1MiB" doc:"Allocation unit sizes are rounded up to; 0 means 1 byte."`
	MinVolume   sdk.ByteSize `kiln:"min_volume" doc:"Smallest volume; 0 for no bound."`
	MaxVolume   sdk.ByteSize `kiln:"max_volume" doc:"Largest volume; 0 for no bound."`
	// MaxOversubscription is reported as the pool's hint; 0 leaves it to the operator.
	MaxOversubscription float64 `kiln:"max_oversubscription" doc:"Over-subscription hint for thin pools."`
	// State is "up" (or empty), "degraded" or "down". It is only reported: the fake serves
	// calls on a pool whatever its state.
	State      string            `kiln:"state" default:"up" doc:"Reported state: up, degraded or down."`
	Features   *Features         `kiln:"features" doc:"Features of this pool; without the block, everything the driver implements."`
	Attributes map[string]string `kiln:"attributes" doc:"Custom string attributes for extra-spec matching."`
}

// Features narrows what a pool supports (sdk.FeatureSet). Without the block (a nil *Features)
// the pool reports no feature set, which stands for everything the driver implements with the
// conservative behaviours; an empty block declares a pool with no optional features.
type Features struct {
	Snapshots            bool     `kiln:"snapshots" doc:"Snapshots can be taken."`
	CreateFromSnapshot   bool     `kiln:"create_from_snapshot" doc:"Volumes can be created from snapshots."`
	Clone                bool     `kiln:"clone" doc:"Volumes can be cloned."`
	Extend               bool     `kiln:"extend" doc:"Volumes can be extended."`
	ExtendOnline         bool     `kiln:"extend_online" doc:"Attached volumes can be extended."`
	CloneAcrossPools     bool     `kiln:"clone_across_pools" doc:"Clones and restores may land in another pool."`
	IndependentSnapshots bool     `kiln:"independent_snapshots" doc:"A volume with snapshots can be deleted; they survive."`
	Protocols            []string `kiln:"protocols" doc:"Export protocols; the fake offers only local."`
}

// Failure injects errors into one operation.
type Failure struct {
	Op      string `kiln:"op,required" doc:"Operation name, such as create_volume."`
	Code    string `kiln:"code" default:"Internal" doc:"sdk.Code name of the error, such as NoSpace or Unavailable."`
	Mode    string `kiln:"mode" default:"always" doc:"once (the first call), always, or every (every Nth call)."`
	Every   int    `kiln:"every" doc:"For mode every: fail calls N, 2N, 3N, … of the operation."`
	Reason  string `kiln:"reason" doc:"Error reason; INJECTED_FAILURE when empty."`
	Message string `kiln:"message" doc:"Error message; generated when empty."`
}

// Operation names, as Config.Latency and Failure.Op spell them.
const (
	OpCapacity                 = "capacity"
	OpProbe                    = "probe"
	OpCreateVolume             = "create_volume"
	OpCreateVolumeFromSnapshot = "create_volume_from_snapshot"
	OpCloneVolume              = "clone_volume"
	OpDeleteVolume             = "delete_volume"
	OpGetVolume                = "get_volume"
	OpListVolumes              = "list_volumes"
	OpExtendVolume             = "extend_volume"
	OpCreateSnapshot           = "create_snapshot"
	OpDeleteSnapshot           = "delete_snapshot"
	OpConnect                  = "connect"
	OpDisconnect               = "disconnect"
)

// Ops lists every operation name.
var Ops = []string{
	OpCapacity, OpProbe, OpCreateVolume, OpCreateVolumeFromSnapshot, OpCloneVolume,
	OpDeleteVolume, OpGetVolume, OpListVolumes, OpExtendVolume, OpCreateSnapshot,
	OpDeleteSnapshot, OpConnect, OpDisconnect,
}

var poolStates = map[string]sdk.PoolState{
	"": sdk.PoolUp, "up": sdk.PoolUp, "degraded": sdk.PoolDegraded, "down": sdk.PoolDown,
}

// Validate reports the first bad entry of c, naming it.
func (c Config) Validate() error {
	if c.StateDir == "" {
		return errors.New("state_dir: required")
	}
	if err := validatePools(c.Pools); err != nil {
		return err
	}
	if _, err := parseLatency(c.Latency); err != nil {
		return err
	}
	for i, f := range c.Failures {
		if _, err := f.rule(); err != nil {
			return fmt.Errorf("failure[%d]: %w", i, err)
		}
	}
	for i, b := range c.Bugs {
		if !slices.Contains(Bugs, b) {
			return fmt.Errorf("bugs[%d]: unknown bug %q (want one of %s)", i, b, strings.Join(Bugs, ", "))
		}
	}
	return nil
}

func validatePools(pools []Pool) error {
	seen := make(map[string]bool)
	for i, p := range pools {
		if seen[p.Name] {
			return fmt.Errorf("pool[%d].name: duplicate pool %q", i, p.Name)
		}
		seen[p.Name] = true
		if err := p.validate(); err != nil {
			return fmt.Errorf("pool[%d] %q: %w", i, p.Name, err)
		}
	}
	return nil
}

func (p Pool) validate() error {
	_, known := poolStates[p.State]
	switch {
	case p.Name == "":
		return errors.New("name: required")
	case !known:
		return fmt.Errorf("state: unknown state %q (want up, degraded or down)", p.State)
	case p.MaxVolume > 0 && p.MinVolume > p.MaxVolume:
		return fmt.Errorf("min_volume %d exceeds max_volume %d", p.MinVolume, p.MaxVolume)
	case p.MaxOversubscription < 0:
		return fmt.Errorf("max_oversubscription: must not be negative, got %g", p.MaxOversubscription)
	}
	if p.Features == nil {
		return nil
	}
	for i, proto := range p.Features.Protocols {
		if proto != "local" {
			return fmt.Errorf("features.protocols[%d]: the fake offers only \"local\", not %q", i, proto)
		}
	}
	return nil
}

// parseLatency turns the latency map into durations by operation.
func parseLatency(m map[string]string) (map[string]time.Duration, error) {
	out := make(map[string]time.Duration, len(m))
	for _, op := range slices.Sorted(maps.Keys(m)) {
		if err := checkOp(op); err != nil {
			return nil, fmt.Errorf("latency %q: %w", op, err)
		}
		d, err := time.ParseDuration(m[op])
		if err != nil || d < 0 {
			return nil, fmt.Errorf("latency %q: want a non-negative duration such as \"200ms\", got %q", op, m[op])
		}
		out[op] = d
	}
	return out, nil
}

func checkOp(op string) error {
	if !slices.Contains(Ops, op) {
		return fmt.Errorf("unknown operation %q (want one of %s)", op, strings.Join(Ops, ", "))
	}
	return nil
}
