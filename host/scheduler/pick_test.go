package scheduler

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// explain runs Pick and returns its explanation; it fails the test when a pool passed.
func explain(t *testing.T, cfg Config, pools []Pool, req Request) string {
	t.Helper()
	d, err := Pick(cfg, pools, req)
	var nv *NoValidPoolError
	if !errors.As(err, &nv) || !errors.Is(err, ErrNoValidPool) {
		t.Fatalf("Pick = %+v, %v; want a *NoValidPoolError", d, err)
	}
	if diff := cmp.Diff(nv.Stages, d.Stages); diff != "" {
		t.Errorf("the error's stages differ from the decision's:\n%s", diff)
	}
	return err.Error()
}

func TestExplanations(t *testing.T) {
	zoned := func(zone string, free int64) Pool {
		p := thickPool(free)
		p.Zone = zone
		return p
	}
	twelve := []Pool{zoned("az1", 10), zoned("az1", 20), zoned("az1", 40), zoned("az1", 80)}
	for range 8 {
		twelve = append(twelve, zoned("az2", 500))
	}
	tests := []struct {
		name  string
		cfg   Config
		pools []Pool
		req   Request
		want  string
	}{{
		name: "zone then capacity", pools: twelve, req: Request{Size: 100 * GiB, Zone: "az1"},
		want: "No valid pool: AvailabilityZoneFilter 12→4 (want az1; the others are in az2), " +
			"CapacityFilter 4→0 (need 100 GiB, largest headroom 80 GiB)",
	}, {
		name: "no pools", want: "No valid pool: no pools reported",
	}, {
		name:  "health",
		pools: []Pool{{State: PoolDown}, {Age: 10 * time.Minute}, {Age: 4 * time.Minute}},
		want:  "No valid pool: Health 3→0 (1 down, 2 with a report older than 3m0s (oldest 10m0s))",
	}, {
		name:  "sizes that print alike",
		pools: []Pool{thickPool(100)}, req: Request{Size: 100*GiB + 1},
		want: "No valid pool: CapacityFilter 1→0 (need 100 GiB, largest headroom " +
			"107374182400 B of the 107374182401 B needed)",
	}, {
		name: "size limits and bad ratio",
		pools: []Pool{{Infinite: true, MaxVolumeBytes: GiB}, {Infinite: true, MinVolumeBytes: 4 * GiB},
			{TotalBytes: GiB, FreeBytes: GiB, Thin: true, MaxOversubscription: Ratio{Value: 0.5}}, {}},
		req: Request{Size: 2 * GiB},
		want: "No valid pool: CapacityFilter 4→0 (need 2 GiB; 1 below the pool's minimum volume size; " +
			"1 above the pool's maximum volume size; 1 reporting no total capacity; " +
			"1 with a max over-subscription ratio below 1)",
	}, {
		name: "capabilities",
		pools: []Pool{{Backend: "nfs", Features: FeatureMultiattach}, {Backend: "nfs", Features: FeatureMultiattach},
			{Backend: "lvm"}, {Backend: "lvm", Features: FeatureMultiattach, Attributes: map[string]Attribute{"iops": IntAttr(10, "")}}},
		req: Request{Requires: FeatureMultiattach, ExtraSpecs: map[string]string{
			"volume_backend_name": "lvm", "capabilities:iops": ">= 5000"}},
		want: `No valid pool: CapabilitiesFilter 4→0 (1 without multiattach; 3 unmatched capabilities:iops=">= 5000"; ` +
			`2 unmatched volume_backend_name="lvm")`,
	}, {
		name:  "affinity and source",
		cfg:   Config{Filters: []string{filterDifferent, filterSame}},
		pools: []Pool{{Backend: "a"}, {Backend: "b"}, {Backend: "c"}},
		req:   Request{Only: PoolRef{Backend: "a"}, Hints: Hints{DifferentBackend: []string{"a", "b", "c", "d", "e"}}},
		want: "No valid pool: SourceBackend 3→1 (only backend a), " +
			"DifferentBackendFilter 1→0 (different backend from a, b, c and 2 more)",
	}, {
		name:  "driver filter",
		cfg:   Config{Filters: []string{filterDriver}},
		pools: []Pool{{Backend: "a", Name: "p", FilterFunction: "volume.size > 100"}, {Backend: "b", Name: "p", FilterFunction: "extra.x"}},
		req:   Request{Size: GiB},
		want: "No valid pool: DriverFilter 2→0 (filter_function false on 1; filter_function failed on 1 " +
			"(first b#p: extra.x has no value))",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := explain(t, tt.cfg, tt.pools, tt.req); got != tt.want {
				t.Errorf("explanation\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestExplanationBounded: however many pools, zones, specs and hints, an explanation fits
// maxExplanation bytes, each detail maxDetail, and stays valid UTF-8.
func TestExplanationBounded(t *testing.T) {
	long := strings.Repeat("é", 100)
	var pools []Pool
	specs, hints := map[string]string{}, []string{}
	for i := range 200 {
		pools = append(pools, Pool{Backend: fmt.Sprint(long, i), Zone: fmt.Sprint(long, i), Infinite: true})
		specs[fmt.Sprint("capabilities:", long, i)] = long
		hints = append(hints, fmt.Sprint(long, i))
	}
	for _, cfg := range []Config{
		{Filters: []string{filterCapabilities}},
		{Filters: []string{filterZone}},
		{Filters: []string{filterSame}},
	} {
		req := Request{ExtraSpecs: specs, Zones: hints[:50], Hints: Hints{SameBackend: []string{"x" + long}}}
		d, err := Pick(cfg, pools[100:], req)
		if err == nil {
			t.Fatalf("%v: a pool passed", cfg.Filters)
		}
		msg := err.Error()
		if len(msg) > maxExplanation || !utf8.ValidString(msg) {
			t.Errorf("%v: explanation of %d bytes (valid UTF-8: %v)", cfg.Filters, len(msg), utf8.ValidString(msg))
		}
		for _, s := range d.Stages {
			if len(s.Detail) > maxDetail || !utf8.ValidString(s.Detail) {
				t.Errorf("%s: detail of %d bytes", s.Name, len(s.Detail))
			}
		}
	}
}

// TestStaleness: a report older than MaxAge (default 3 minutes) or a down pool is never
// chosen; a degraded pool is; a negative MaxAge disables the limit.
func TestStaleness(t *testing.T) {
	pools := []Pool{
		{Backend: "fresh", Age: time.Minute},
		{Backend: "down", State: PoolDown},
		{Backend: "stale", Age: 10 * time.Minute},
		{Backend: "degraded", State: PoolDegraded, Age: 3 * time.Minute},
	}
	for _, tt := range []struct {
		maxAge time.Duration
		want   []int
	}{
		{0, []int{0, 3}},
		{20 * time.Minute, []int{0, 2, 3}},
		{-1, []int{0, 2, 3}},
		{30 * time.Second, []int{}},
	} {
		t.Run(tt.maxAge.String(), func(t *testing.T) {
			d, _ := Pick(Config{MaxAge: tt.maxAge, Filters: []string{}, Weighers: []Weigher{}}, pools, Request{})
			got := []int{}
			for _, w := range d.Pools {
				got = append(got, w.Index)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("chosen (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAttempted: a reschedule does not retry the pools already attempted (on by default;
// Cinder's default configuration retries them).
func TestAttempted(t *testing.T) {
	pools := []Pool{{Backend: "a", Name: "p", Infinite: true}, {Backend: "b", Name: "p", Infinite: true}}
	req := Request{Size: GiB, Attempted: []PoolRef{{"a", "p"}}}
	if d, err := Pick(Config{}, pools, req); err != nil || d.Pools[0].Index != 1 || len(d.Pools) != 1 {
		t.Errorf("Pick = %+v, %v; want only pool 1", d, err)
	}
	cinder := Config{Filters: []string{filterZone, filterCapacity, filterCapabilities}}
	if d, err := Pick(cinder, pools, req); err != nil || d.Pools[0].Index != 0 {
		t.Errorf("Cinder's defaults: Pick = %+v, %v; want pool 0 first", d, err)
	}
	req.Attempted = append(req.Attempted, PoolRef{"b", "p"})
	want := "No valid pool: IgnoreAttemptedHostsFilter 2→0 (2 attempted before)"
	if got := explain(t, Config{}, pools, req); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// TestSource: Request.Only keeps the source's backend, or its pool.
func TestSource(t *testing.T) {
	pools := []Pool{{Backend: "a", Name: "p1"}, {Backend: "a", Name: "p2"}, {Backend: "b", Name: "p1"}}
	cfg := Config{Filters: []string{}}
	for only, want := range map[PoolRef][]int{{Backend: "a"}: {0, 1}, {Backend: "a", Pool: "p2"}: {1}, {}: {0, 1, 2}} {
		d, err := Pick(cfg, pools, Request{Only: only})
		if err != nil {
			t.Fatalf("%v: %v", only, err)
		}
		var got []int
		for _, w := range d.Pools {
			got = append(got, w.Index)
		}
		slices.Sort(got)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%v (-want +got):\n%s", only, diff)
		}
	}
}

func TestInvalid(t *testing.T) {
	for _, tt := range []struct {
		cfg  Config
		req  Request
		want error
	}{
		{Config{Filters: []string{"RetryFilter"}}, Request{}, ErrInvalidConfig},
		{Config{Weighers: []Weigher{{Name: "StochasticHostWeightHandler"}}}, Request{}, ErrInvalidConfig},
		{Config{TopK: -1}, Request{}, ErrInvalidConfig},
		{Config{}, Request{Size: -1}, ErrInvalidRequest},
	} {
		if _, err := Pick(tt.cfg, []Pool{{Infinite: true}}, tt.req); !errors.Is(err, tt.want) {
			t.Errorf("%+v, %+v: err = %v, want %v", tt.cfg, tt.req, err, tt.want)
		}
	}
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("the zero Config: %v", err)
	}
}

// TestDecision: a successful decision reports every stage's counts (for the rejection
// metrics) and leaves its inputs unchanged.
func TestDecision(t *testing.T) {
	pools := []Pool{
		{Backend: "a", Name: "p", Zone: "az1", TotalBytes: 100 * GiB, FreeBytes: 50 * GiB, Thick: true,
			Attributes: map[string]Attribute{"tier": StringAttr("gold")}},
		{Backend: "b", Name: "p", Zone: "az1", TotalBytes: 100 * GiB, FreeBytes: 90 * GiB, Thick: true,
			Attributes: map[string]Attribute{"tier": StringAttr("gold")}},
		{Backend: "c", Name: "p", Zone: "az2", TotalBytes: 100 * GiB, FreeBytes: 90 * GiB, Thick: true},
		{Backend: "d", Name: "p", Zone: "az1", TotalBytes: 100 * GiB, FreeBytes: GiB, Thick: true},
	}
	req := Request{Size: 10 * GiB, Zone: "az1", ExtraSpecs: map[string]string{"capabilities:tier": "gold"}}
	before, beforeReq := clonePools(pools), req
	d, err := Pick(Config{}, pools, req)
	if err != nil {
		t.Fatal(err)
	}
	wantStages := []Stage{
		{Name: "Health", In: 4, Out: 4},
		{Name: "AvailabilityZoneFilter", In: 4, Out: 3, Detail: "want az1; the others are in az2"},
		{Name: "CapacityFilter", In: 3, Out: 2, Detail: "need 10 GiB, largest headroom 1 GiB"},
		{Name: "CapabilitiesFilter", In: 2, Out: 2},
		{Name: "IgnoreAttemptedHostsFilter", In: 2, Out: 2},
	}
	if diff := cmp.Diff(wantStages, d.Stages); diff != "" {
		t.Errorf("stages (-want +got):\n%s", diff)
	}
	// Headroom 50 and 90 GiB: norm 0 and 1.
	wantPools := []Weighed{{Pool: &pools[1], Index: 1, Weight: 1}, {Pool: &pools[0], Index: 0, Weight: 0}}
	if diff := cmp.Diff(wantPools, d.Pools); diff != "" {
		t.Errorf("pools (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, pools); diff != "" {
		t.Errorf("Pick changed its pools:\n%s", diff)
	}
	if diff := cmp.Diff(beforeReq, req); diff != "" {
		t.Errorf("Pick changed its request:\n%s", diff)
	}
}

func clonePools(pools []Pool) []Pool {
	out := slices.Clone(pools)
	for i := range out {
		if out[i].Attributes != nil {
			out[i].Attributes = maps.Clone(out[i].Attributes)
		}
	}
	return out
}
