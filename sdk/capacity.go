package sdk

import (
	"fmt"
	"slices"
)

// Capacity is a backend's capability report: every pool it can place volumes in.
type Capacity struct {
	Pools []Pool
	// Seq increases with every report of one driver process; BootID changes when the process
	// restarts. The SDK sets both; together they order reports without wall clocks.
	Seq    uint64
	BootID string
}

// Pool returns the pool named name.
func (c Capacity) Pool(name string) (Pool, bool) {
	i := slices.IndexFunc(c.Pools, func(p Pool) bool { return p.Name == name })
	if i < 0 {
		return Pool{}, false
	}
	return c.Pools[i], true
}

// PoolState is a pool's health.
type PoolState int

// Pool states. The zero value is Up.
const (
	PoolUp PoolState = iota
	PoolDegraded
	PoolDown
)

func (s PoolState) String() string {
	switch s {
	case PoolUp:
		return "up"
	case PoolDegraded:
		return "degraded"
	case PoolDown:
		return "down"
	}
	return fmt.Sprintf("PoolState(%d)", int(s))
}

// Pool is one place volumes can go, with Cinder's capacity model in bytes.
type Pool struct {
	Name        string
	State       PoolState
	StateReason string
	// TotalBytes and FreeBytes are physical. CapacityUnknown and CapacityInfinite mirror
	// Cinder's "unknown" and "infinite"; when either is set both byte counts are ignored.
	TotalBytes       int64
	FreeBytes        int64
	CapacityUnknown  bool
	CapacityInfinite bool
	// ProvisionedBytes is the sum of volume sizes as the driver sees it; the host's claims
	// remain authoritative.
	ProvisionedBytes int64
	// Thin and Thick say which provisioning the pool offers; at least one must be set.
	Thin  bool
	Thick bool
	// MaxOversubscription is a hint for thin pools; 0 leaves it to the operator's config.
	MaxOversubscription float64
	// MinVolumeBytes and MaxVolumeBytes bound a volume's size (0 = no bound);
	// GranularityBytes is the allocation unit sizes are rounded up to (0 = 1 byte).
	MinVolumeBytes   int64
	MaxVolumeBytes   int64
	GranularityBytes int64
	// Features narrows what this pool supports; nil means everything the driver implements.
	// A pool may not declare a feature the driver does not implement.
	Features *FeatureSet
	// Resources are other exhaustible things, such as thin-pool metadata.
	Resources []Resource
	// Attributes are typed custom capabilities that volume-type extra specs match.
	Attributes map[string]Attribute
}

// FeatureSet is what a pool supports.
type FeatureSet struct {
	Snapshots          bool `json:"snapshots"`
	CreateFromSnapshot bool `json:"create_from_snapshot"`
	Clone              bool `json:"clone"`
	Extend             bool `json:"extend"`
	// ExtendOnline allows extending an attached volume.
	ExtendOnline bool `json:"extend_online"`
	// CloneAcrossPools declares that copies (clones, restores) of this pool's volumes and
	// snapshots may land in another pool of the backend; without it the host places them in
	// the source's pool.
	CloneAcrossPools bool `json:"clone_across_pools"`
	// IndependentSnapshots: a volume with snapshots can be deleted and its snapshots survive.
	// When false, deleting such a volume returns an InUse error.
	IndependentSnapshots bool     `json:"independent_snapshots"`
	Protocols            []string `json:"protocols"`
}

// Features returns the feature set of a pool that declares none: every operation the driver
// implements, and the conservative choice for each behaviour (no online extend, no cross-pool
// copies, snapshots that keep their volume from being deleted, no protocols).
func (c Capabilities) Features() FeatureSet {
	return FeatureSet{
		Snapshots: c.Snapshots, CreateFromSnapshot: c.CreateFromSnapshot, Clone: c.Clone,
		Extend: c.Extend,
	}
}

// check reports a feature that f declares although c does not implement it.
func (f FeatureSet) check(c Capabilities) error {
	bad := func(name string) error {
		return fmt.Errorf("declares feature %q without implementing it", name)
	}
	switch {
	case f.Snapshots && !c.Snapshots, f.IndependentSnapshots && !c.Snapshots:
		return bad("snapshots")
	case f.CreateFromSnapshot && !c.CreateFromSnapshot:
		return bad("create_from_snapshot")
	case f.Clone && !c.Clone:
		return bad("clone")
	case (f.Extend || f.ExtendOnline) && !c.Extend:
		return bad("extend")
	case f.CloneAcrossPools && !(c.Clone || c.CreateFromSnapshot):
		return bad("clone_across_pools")
	case len(f.Protocols) > 0 && !c.Connect:
		return bad("protocols")
	}
	return nil
}

// Resource is an exhaustible pool resource other than bytes.
type Resource struct {
	Name  string
	Total int64
	Free  int64
}

// AttrKind is the type of an Attribute.
type AttrKind int

// Attribute kinds.
const (
	AttrString AttrKind = iota + 1
	AttrInt
	AttrFloat
	AttrBool
)

// Attribute is a typed custom capability with an optional unit ("GiB", "ms"), so that the
// scheduler compares numbers as numbers. Build one with StringAttr, IntAttr, FloatAttr or
// BoolAttr.
type Attribute struct {
	Kind  AttrKind
	Str   string
	Int   int64
	Float float64
	Bool  bool
	Unit  string
}

// StringAttr is a string attribute.
func StringAttr(s string) Attribute { return Attribute{Kind: AttrString, Str: s} }

// IntAttr is an integer attribute with an optional unit.
func IntAttr(v int64, unit string) Attribute { return Attribute{Kind: AttrInt, Int: v, Unit: unit} }

// FloatAttr is a float attribute with an optional unit.
func FloatAttr(v float64, unit string) Attribute {
	return Attribute{Kind: AttrFloat, Float: v, Unit: unit}
}

// BoolAttr is a boolean attribute.
func BoolAttr(v bool) Attribute { return Attribute{Kind: AttrBool, Bool: v} }
