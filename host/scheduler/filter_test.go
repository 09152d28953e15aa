package scheduler

import (
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// passes runs Pick with the one filter and no weigher, and reports whether the pool passed.
func passes(t *testing.T, filter string, p Pool, req Request) bool {
	t.Helper()
	return len(passing(t, filter, []Pool{p}, req)) == 1
}

// passing runs Pick with the one filter and no weigher, and returns the indexes of the pools
// that passed, in input order.
func passing(t *testing.T, filter string, pools []Pool, req Request) []int {
	t.Helper()
	d, err := Pick(Config{Filters: []string{filter}, Weighers: []Weigher{}}, pools, req)
	if errors.Is(err, ErrNoValidPool) {
		return []int{}
	}
	if err != nil {
		t.Fatalf("Pick: %v", err)
	}
	out := []int{}
	for _, w := range d.Pools {
		out = append(out, w.Index)
	}
	slices.Sort(out)
	return out
}

// TestCapacityFilter pins CapacityFilter's steps (cinder.md §2.4, "CapacityFilter").
func TestCapacityFilter(t *testing.T) {
	thick := Pool{TotalBytes: 100 * GiB, FreeBytes: 60 * GiB, AllocatedBytes: 40 * GiB, Thick: true}
	tests := []struct {
		name string
		pool Pool
		size int64
		prov Provisioning
		want bool
	}{
		// Step 2: req == 0 (manage) passes, even on a pool with nothing.
		{"manage", Pool{}, 0, ProvisionAny, true},
		// Step 4: free infinite or unknown passes.
		{"infinite", Pool{Infinite: true}, 1 << 50, ProvisionAny, true},
		// Step 5 with the reserve: Cinder passes an unknown free capacity whatever r is.
		{"unknown with a reserve", Pool{Unknown: true, ReservedPercent: 10}, 1 << 50, ProvisionAny, true},
		// Step 6: T ≤ 0 fails (the generic drivers' 0/0 pools are never chosen).
		{"no total", Pool{FreeBytes: 10 * GiB, Thick: true}, GiB, ProvisionAny, false},
		// Step 10: thick passes iff req ≤ V = min(60, 100 − 40) = 60 (§2.4 example).
		{"thick, exactly the headroom", thick, 60 * GiB, ProvisionAny, true},
		{"thick, one byte more", thick, 60*GiB + 1, ProvisionAny, false},
		// Step 8: thin passes iff P + req ≤ (T − R)·M; here A = 100·20 = 2000, P = 0, and
		// physical 100·20 = 2000 (§9.3), so 2000 GiB fits and one byte more does not.
		{"thin at A", Pool{TotalBytes: 100 * GiB, FreeBytes: 100 * GiB, Thin: true}, 2000 * GiB, ProvisionAny, true},
		{"thin past A", Pool{TotalBytes: 100 * GiB, FreeBytes: 100 * GiB, Thin: true}, 2000*GiB + 1, ProvisionAny, false},
		// §9.3: Cinder passes 1000 GiB here (A − P = 2000 − 500 = 1500); with 10 GiB free Kiln
		// allows (F − R)·M = 200.
		{"thin past the free space", Pool{TotalBytes: 100 * GiB, FreeBytes: 10 * GiB, AllocatedBytes: 500 * GiB,
			Thin: true}, 1000 * GiB, ProvisionAny, false},
		// Step 9: thin with a ratio below 1 fails as invalid.
		{"thin, ratio below 1", Pool{TotalBytes: 100 * GiB, FreeBytes: 100 * GiB, Thin: true,
			MaxOversubscription: Ratio{Value: 0.5}}, GiB, ProvisionAny, false},
		// …but a thick request on the same pool uses the thick arithmetic (M = 1).
		{"thick request, ratio below 1", Pool{TotalBytes: 100 * GiB, FreeBytes: 100 * GiB, Thin: true,
			MaxOversubscription: Ratio{Value: 0.5}}, GiB, ProvisionThick, true},
		// Kiln: the pool's size limits.
		{"below the minimum", Pool{TotalBytes: 100 * GiB, FreeBytes: 100 * GiB, Thick: true, MinVolumeBytes: 2 * GiB},
			GiB, ProvisionAny, false},
		{"above the maximum", Pool{Infinite: true, MaxVolumeBytes: 16 * GiB}, 17 * GiB, ProvisionAny, false},
		{"within the limits", Pool{Infinite: true, MinVolumeBytes: GiB, MaxVolumeBytes: 16 * GiB}, 16 * GiB, ProvisionAny, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := Request{Size: tt.size, Provisioning: tt.prov}
			if got := passes(t, filterCapacity, tt.pool, req); got != tt.want {
				t.Errorf("passes = %v, want %v", got, tt.want)
			}
		})
	}
	// An extend claims its growth but is bounded as the volume it makes.
	bounded := Pool{TotalBytes: 100 * GiB, FreeBytes: 100 * GiB, Thick: true, MinVolumeBytes: 2 * GiB, MaxVolumeBytes: 16 * GiB}
	for _, tt := range []struct {
		name         string
		growth, size int64
		want         bool
	}{
		{"extend by 1 GiB to 4 GiB, above the minimum", GiB, 4 * GiB, true},
		{"extend by 2 GiB to 17 GiB, above the maximum", 2 * GiB, 17 * GiB, false},
		{"extend by 60 GiB to 64 GiB, above the maximum", 60 * GiB, 64 * GiB, false},
	} {
		req := Request{Size: tt.growth, VolumeSize: tt.size}
		if got := passes(t, filterCapacity, bounded, req); got != tt.want {
			t.Errorf("%s: passes = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestZoneFilter pins AvailabilityZoneFilter (§2.5): the type's zones first, else the volume's
// zone, else any.
func TestZoneFilter(t *testing.T) {
	pools := []Pool{{Zone: "az1"}, {Zone: "az2"}, {Zone: "az3"}}
	for _, tt := range []struct {
		name string
		req  Request
		want []int
	}{
		{"no zone", Request{}, []int{0, 1, 2}},
		{"the volume's zone", Request{Zone: "az2"}, []int{1}},
		{"the type's zones win", Request{Zone: "az2", Zones: []string{"az1", "az3"}}, []int{0, 2}},
		{"unknown zone", Request{Zone: "az9"}, []int{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, passing(t, filterZone, pools, tt.req)); diff != "" {
				t.Errorf("passing (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCapabilitiesFilterScopes pins the key handling of CapabilitiesFilter (§2.5): keys in
// another scope are ignored, the capabilities: prefix is removed, a nested key names one
// attribute, a missing capability fails, a list matches when any element does.
func TestCapabilitiesFilterScopes(t *testing.T) {
	p := Pool{Backend: "lvm-1", Protocols: []string{"iscsi"}, Thin: true, Attributes: map[string]Attribute{
		"replication:mode": StringAttr("sync"), "tier": StringAttr("gold"),
	}}
	for _, tt := range []struct {
		name  string
		specs map[string]string
		want  bool
	}{
		{"no specs", nil, true},
		{"other scopes are not capabilities", map[string]string{"provisioning:type": "thin", "QoS:x": "1",
			"RESKEY:availability_zones": "az9", "vendor:thing": "nope"}, true},
		{"unscoped", map[string]string{"tier": "gold"}, true},
		{"capabilities prefix", map[string]string{"capabilities:tier": "gold"}, true},
		{"nested key", map[string]string{"capabilities:replication:mode": "sync"}, true},
		{"missing capability", map[string]string{"capabilities:nope": "<is> False"}, false},
		{"volume_backend_name defaults to the backend", map[string]string{"volume_backend_name": "lvm-1"}, true},
		{"protocol variants: iscsi is iSCSI", map[string]string{"storage_protocol": "iSCSI"}, true},
		{"protocol variants: not FC", map[string]string{"storage_protocol": "FC"}, false},
		{"every spec must match", map[string]string{"tier": "gold", "capabilities:replication:mode": "async"}, false},
		{"a feature the pool lacks", map[string]string{"multiattach": "<is> True"}, false},
		{"a standard bool", map[string]string{"thin_provisioning_support": "<is> True"}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := passes(t, filterCapabilities, p, Request{ExtraSpecs: tt.specs}); got != tt.want {
				t.Errorf("passes = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestCapabilitiesFilterRequirements pins what Kiln adds: an explicit provisioning type must
// be offered, and the operation's features must be present.
func TestCapabilitiesFilterRequirements(t *testing.T) {
	thin := Pool{Thin: true, Features: FeatureSnapshots}
	thick := Pool{Thick: true, Features: FeatureSnapshots | FeatureMultiattach}
	pools := []Pool{thin, thick}
	for _, tt := range []struct {
		name string
		req  Request
		want []int
	}{
		{"any", Request{}, []int{0, 1}},
		{"thin", Request{Provisioning: ProvisionThin}, []int{0}},
		{"thick from the extra spec", Request{ExtraSpecs: map[string]string{"provisioning:type": "thick"}}, []int{1}},
		{"thin from the extra spec", Request{ExtraSpecs: map[string]string{"provisioning:type": "thin"}}, []int{0}},
		{"features", Request{Requires: FeatureMultiattach | FeatureSnapshots}, []int{1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, passing(t, filterCapabilities, pools, tt.req)); diff != "" {
				t.Errorf("passing (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAffinityFilters pins DifferentBackendFilter and SameBackendFilter, matched at the backend
// (Cinder matches at the pool), and IgnoreAttemptedHostsFilter, matched at the pool.
func TestAffinityFilters(t *testing.T) {
	pools := []Pool{{Backend: "a", Name: "p1"}, {Backend: "a", Name: "p2"}, {Backend: "b", Name: "p1"}}
	for _, tt := range []struct {
		name, filter string
		req          Request
		want         []int
	}{
		{"different: no hint", filterDifferent, Request{}, []int{0, 1, 2}},
		{"different", filterDifferent, Request{Hints: Hints{DifferentBackend: []string{"a"}}}, []int{2}},
		{"same: no hint", filterSame, Request{}, []int{0, 1, 2}},
		{"same", filterSame, Request{Hints: Hints{SameBackend: []string{"a", "c"}}}, []int{0, 1}},
		{"attempted", filterAttempted, Request{Attempted: []PoolRef{{"a", "p1"}, {"b", "p1"}}}, []int{1}},
		{"attempted: none", filterAttempted, Request{}, []int{0, 1, 2}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, passing(t, tt.filter, pools, tt.req)); diff != "" {
				t.Errorf("passing (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDriverFilter pins DriverFilter (§2.5): no function passes, a truthy one passes, a false
// one or one that fails to evaluate (missing value, bad syntax) fails; with storage_protocol
// the function runs per variant and any pass counts.
func TestDriverFilter(t *testing.T) {
	base := Pool{TotalBytes: 100 * GiB, FreeBytes: 999 * GiB / 10, Protocols: []string{"iscsi"}}
	req := Request{Size: 10 * GiB, ExtraSpecs: map[string]string{"tier": "gold"}}
	for _, tt := range []struct {
		fn   string
		want bool
	}{
		{"", true},
		{"volume.size < 20", true},
		{"volume.size >= 20", false},
		{"stats.free_capacity_gb > 99.5", true}, // Cinder truncates 99.9 to 99: false there
		{"extra.tier == 'gold'", true},
		{"extra.missing == 1", false},
		{"1 +", false},
		{"stats.storage_protocol == 'iSCSI'", true},
		{"stats.storage_protocol == 'FC'", false},
		{"capabilities.storage_protocol == 'iscsi'", true},
		{"1 / 0", false},
		{"0", false},
		{"'text'", true},
	} {
		t.Run(tt.fn, func(t *testing.T) {
			p := base
			p.FilterFunction = tt.fn
			if got := passes(t, filterDriver, p, req); got != tt.want {
				t.Errorf("passes = %v, want %v", got, tt.want)
			}
		})
	}
}
