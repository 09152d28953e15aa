package scheduler

// capKey is a standard capability key, resolved once per decision so that a lookup per pool is
// a switch, not a map of strings.
type capKey uint8

const (
	capCustom capKey = iota // Pool.Attributes[name]
	capFeature
	capBackendName
	capPoolName
	capVendor
	capDriverVersion
	capProtocol
	capTotal
	capFree
	capAllocated
	capProvisioned
	capReserved
	capRatio
	capThin
	capThick
	capVolumes
	capState
)

// capKeys maps Cinder's capability keys to the Pool fields they read; a read-only table.
// Capacities are in GiB, as Cinder's, with the unit GiB so that "= 1TiB" converts.
var capKeys = map[string]capKey{
	"volume_backend_name":         capBackendName,
	"pool_name":                   capPoolName,
	"vendor_name":                 capVendor,
	"driver_version":              capDriverVersion,
	"storage_protocol":            capProtocol,
	"total_capacity_gb":           capTotal,
	"free_capacity_gb":            capFree,
	"allocated_capacity_gb":       capAllocated,
	"provisioned_capacity_gb":     capProvisioned,
	"reserved_percentage":         capReserved,
	"max_over_subscription_ratio": capRatio,
	"thin_provisioning_support":   capThin,
	"thick_provisioning_support":  capThick,
	"total_volumes":               capVolumes,
	"backend_state":               capState,
}

// capRef is a resolved capability key.
type capRef struct {
	key     capKey
	feature Features
	name    string
}

// resolveCap resolves a capability key: a standard key, a feature, or a custom attribute.
// Standard keys and features win over attributes of the same name.
func resolveCap(name string) capRef {
	if k, ok := capKeys[name]; ok {
		return capRef{key: k, name: name}
	}
	if f, ok := featureKeys[name]; ok {
		return capRef{key: capFeature, feature: f, name: name}
	}
	return capRef{key: capCustom, name: name}
}

// capability returns the pool's value for r; kindNone when the pool has none.
func (p *Pool) capability(r capRef) value {
	switch r.key {
	case capCustom:
		if a, ok := p.Attributes[r.name]; ok {
			return a.value()
		}
		return value{}
	case capFeature:
		return boolValue(p.Features.Has(r.feature))
	case capBackendName:
		return stringValue(p.backendName())
	case capPoolName:
		return stringValue(p.Name)
	case capVendor:
		return stringValue(p.VendorName)
	case capDriverVersion:
		return stringValue(p.DriverVersion)
	case capProtocol:
		if len(p.Protocols) == 0 {
			return value{}
		}
		return value{kind: kindProtocols, str: p.Protocols[0]}
	case capThin:
		return boolValue(p.Thin)
	case capThick:
		return boolValue(p.Thick)
	case capState:
		return stringValue(p.State.String())
	}
	return p.capacityValue(r.key)
}

// capacityValue returns the numeric capabilities: capacities in GiB, the reserved percentage,
// the effective over-subscription ratio and the volume count.
func (p *Pool) capacityValue(k capKey) value {
	switch k {
	case capTotal, capFree:
		if s := p.unbounded(); s != "" {
			return stringValue(s)
		}
		if k == capTotal {
			return numberValue(float64(p.TotalBytes)/GiB, "GiB")
		}
		return numberValue(float64(p.FreeBytes)/GiB, "GiB")
	case capAllocated:
		return numberValue(float64(p.AllocatedBytes)/GiB, "GiB")
	case capProvisioned:
		return numberValue(float64(p.provisioned())/GiB, "GiB")
	case capReserved:
		return numberValue(float64(p.reservedPercent()), "")
	case capRatio:
		return numberValue(p.ratio(), "")
	case capVolumes:
		return numberValue(float64(p.Volumes), "")
	}
	return value{}
}

// unbounded returns "infinite" or "unknown" when the pool reports capacity so, else "".
func (p *Pool) unbounded() string {
	switch {
	case p.Infinite:
		return "infinite"
	case p.Unknown:
		return "unknown"
	}
	return ""
}

// Cinder's spellings of the protocols that have several (cinder/common/constants.py): a pool
// serving any of them matches every one. Read-only tables.
var (
	iscsiVariants  = []string{"iSCSI", "iscsi"}
	fcVariants     = []string{"FC", "fibre_channel", "fc"}
	nfsVariants    = []string{"NFS", "nfs"}
	nvmeofVariants = []string{"NVMe-oF", "NVMeOF", "nvmeof"}
)

// variants returns the spellings of protocol p: its variant list, or p alone (in one).
func variants(p string, one *[1]string) []string {
	switch p {
	case "iSCSI", "iscsi":
		return iscsiVariants
	case "FC", "fibre_channel", "fc":
		return fcVariants
	case "NFS", "nfs":
		return nfsVariants
	case "NVMe-oF", "NVMeOF", "nvmeof":
		return nvmeofVariants
	}
	one[0] = p
	return one[:]
}
