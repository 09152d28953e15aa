package scheduler

import "strings"

// Features is a set of abilities a pool supports, matched by extra specs through their
// capability keys (featureKeys) and required by Request.Requires.
type Features uint32

// The features. Each is an extra-spec capability key with a boolean value, named after
// Cinder's key where Cinder has one.
const (
	FeatureSnapshots          Features = 1 << iota // snapshots
	FeatureCreateFromSnapshot                      // create_from_snapshot
	FeatureClone                                   // clone
	FeatureRevert                                  // revert
	FeatureExtend                                  // extend
	FeatureExtendOnline                            // online_extend_support (alias extend_online)
	FeatureCloneAcrossPools                        // clone_across_pools
	FeatureMultiattach                             // multiattach
	FeatureQoS                                     // QoS_support
	FeatureEncryption                              // encryption
	FeatureReplication                             // replication_enabled
)

// Has reports whether every feature of want is in f.
func (f Features) Has(want Features) bool { return f&want == want }

// featureKeys maps capability keys to features; a read-only table.
var featureKeys = map[string]Features{
	"snapshots":             FeatureSnapshots,
	"create_from_snapshot":  FeatureCreateFromSnapshot,
	"clone":                 FeatureClone,
	"revert":                FeatureRevert,
	"extend":                FeatureExtend,
	"online_extend_support": FeatureExtendOnline,
	"extend_online":         FeatureExtendOnline,
	"clone_across_pools":    FeatureCloneAcrossPools,
	"multiattach":           FeatureMultiattach,
	"QoS_support":           FeatureQoS,
	"encryption":            FeatureEncryption,
	"replication_enabled":   FeatureReplication,
}

// AttrKind is the type of an Attribute.
type AttrKind int

// Attribute kinds, as in the driver SDK.
const (
	AttrString AttrKind = iota + 1
	AttrInt
	AttrFloat
	AttrBool
)

// Attribute is a typed custom capability with an optional unit ("GiB", "ms", "MB/s"), so that
// extra specs compare numbers as numbers and convert between units of one dimension.
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

// value converts the attribute to the internal representation.
func (a Attribute) value() value {
	switch a.Kind {
	case AttrString:
		return value{kind: kindString, str: a.Str}
	case AttrInt:
		return value{kind: kindNumber, num: float64(a.Int), unit: a.Unit}
	case AttrFloat:
		return value{kind: kindNumber, num: a.Float, unit: a.Unit}
	case AttrBool:
		return value{kind: kindBool, b: a.Bool}
	}
	return value{kind: kindNone}
}

// featureNames are the features' canonical keys, in bit order.
var featureNames = [...]string{"snapshots", "create_from_snapshot", "clone", "revert", "extend",
	"online_extend_support", "clone_across_pools", "multiattach", "QoS_support", "encryption",
	"replication_enabled"}

// String lists the features' capability keys, joined by '+'.
func (f Features) String() string {
	var names []string
	for i, n := range featureNames {
		if f&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, "+")
}
