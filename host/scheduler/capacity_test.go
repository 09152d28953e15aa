package scheduler

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCapacity pins Pool.Capacity: cinder.md §2.4's calculate_capacity_factors, in bytes, with
// §9 item 3's fix (the thin check also bounds by the real free space) and a reserve rounded
// up. Every expected figure is worked by hand from the formulas in the comment.
func TestCapacity(t *testing.T) {
	tests := []struct {
		name string
		pool Pool
		prov Provisioning
		want Capacity
	}{{
		// §2.4 thick: R = 0, A = T = 100, V = min(F, T_res − P) = min(60, 100 − 40) = 60.
		name: "thick",
		pool: Pool{TotalBytes: 100 * GiB, FreeBytes: 60 * GiB, ProvisionedBytes: 40 * GiB, Thick: true},
		want: Capacity{Ratio: 1, Total: 100 * GiB, Provisioned: 40 * GiB, Available: 100 * GiB,
			Physical: 60 * GiB, Headroom: 60 * GiB},
	}, {
		// §2.4 thick with r = 10 %: R = 10, A = 90. Cinder: V = min(F, A − P) = min(50, 90) = 50.
		// Kiln keeps the reserve free: V = min(A − P, F − R) = min(90, 40) = 40.
		name: "thick keeps the reserve out of the free space",
		pool: Pool{TotalBytes: 100 * GiB, FreeBytes: 50 * GiB, Thick: true, ReservedPercent: 10},
		want: Capacity{Ratio: 1, Total: 100 * GiB, Reserved: 10 * GiB, Available: 90 * GiB,
			Physical: 40 * GiB, Headroom: 40 * GiB},
	}, {
		// §2.4 thin, M = 20 (the zero Ratio): A = 100·20 = 2000, V = A − P = 2000;
		// physical (F − R)·M = 100·20 = 2000.
		name: "thin at the default ratio",
		pool: Pool{TotalBytes: 100 * GiB, FreeBytes: 100 * GiB, Thin: true},
		want: Capacity{Thin: true, Ratio: 20, Total: 100 * GiB, Available: 2000 * GiB,
			Physical: 2000 * GiB, Headroom: 2000 * GiB},
	}, {
		// §9.3: Cinder's thin V = A − P = 2000 − 500 = 1500 ignores that only 10 GiB are free.
		// Kiln: V = min(1500, 10·20 = 200) = 200.
		name: "thin is bounded by the real free space",
		pool: Pool{TotalBytes: 100 * GiB, FreeBytes: 10 * GiB, AllocatedBytes: 500 * GiB, Thin: true},
		want: Capacity{Thin: true, Ratio: 20, Total: 100 * GiB, Provisioned: 500 * GiB,
			Available: 2000 * GiB, Physical: 200 * GiB, Headroom: 200 * GiB},
	}, {
		// §2.4 thin with r = 10 %, M = 2: R = 10, A = 90·2 = 180, A − P = 180 − 300 = −120;
		// physical = (80 − 10)·2 = 140; V = −120 (over-committed).
		name: "thin over-committed",
		pool: Pool{TotalBytes: 100 * GiB, FreeBytes: 80 * GiB, ProvisionedBytes: 300 * GiB, Thin: true,
			ReservedPercent: 10, MaxOversubscription: Ratio{Value: 2}},
		want: Capacity{Thin: true, Ratio: 2, Total: 100 * GiB, Reserved: 10 * GiB, Provisioned: 300 * GiB,
			Available: 180 * GiB, Physical: 140 * GiB, Headroom: -120 * GiB},
	}, {
		// §2.4 auto: M = 1 + P/(T − F + 1) = 1 + 200/(100 − 61 + 1) = 1 + 5 = 6 (the +1 is 1 GiB);
		// A = 600, A − P = 400, physical = 61·6 = 366, V = 366.
		name: "auto ratio",
		pool: Pool{TotalBytes: 100 * GiB, FreeBytes: 61 * GiB, ProvisionedBytes: 200 * GiB, Thin: true,
			MaxOversubscription: Ratio{Auto: true}},
		want: Capacity{Thin: true, Ratio: 6, Total: 100 * GiB, Provisioned: 200 * GiB,
			Available: 600 * GiB, Physical: 366 * GiB, Headroom: 366 * GiB},
	}, {
		// §2.4 auto with P = 0: INITIAL_AUTO_MOSR = 20. A = 10·20 = 200, V = 200.
		name: "auto ratio with nothing provisioned",
		pool: Pool{TotalBytes: 10 * GiB, FreeBytes: 10 * GiB, Thin: true, MaxOversubscription: Ratio{Auto: true}},
		want: Capacity{Thin: true, Ratio: 20, Total: 10 * GiB, Available: 200 * GiB,
			Physical: 200 * GiB, Headroom: 200 * GiB},
	}, {
		// §2.4 thin_req is false for provisioning:type thick: thick arithmetic on a thin pool,
		// M = 1: A = 100, V = min(100 − 0, 30) = 30.
		name: "thick request on a thin pool",
		pool: Pool{TotalBytes: 100 * GiB, FreeBytes: 30 * GiB, Thin: true, Thick: true},
		prov: ProvisionThick,
		want: Capacity{Ratio: 1, Total: 100 * GiB, Available: 100 * GiB, Physical: 30 * GiB, Headroom: 30 * GiB},
	}, {
		// §2.4 calculate_max_over_subscription_ratio: not thin-capable → 1.0, whatever is set.
		name: "ratio is 1 without thin support",
		pool: Pool{TotalBytes: 100 * GiB, FreeBytes: 100 * GiB, Thick: true, MaxOversubscription: Ratio{Value: 5}},
		want: Capacity{Ratio: 1, Total: 100 * GiB, Available: 100 * GiB, Physical: 100 * GiB, Headroom: 100 * GiB},
	}, {
		// §9.3: R = ⌈T·r⌉ = ⌈1001·0.1⌉ = ⌈100.1⌉ = 101 (Cinder's floor gives 100).
		// A = 900, V = min(900, 1001 − 101) = 900.
		name: "reserve rounds up",
		pool: Pool{TotalBytes: 1001, FreeBytes: 1001, Thick: true, ReservedPercent: 10},
		want: Capacity{Ratio: 1, Total: 1001, Reserved: 101, Available: 900, Physical: 900, Headroom: 900},
	}, {
		// P = max(driver 30, ledger 50) = 50: the ledger runs ahead of the report.
		// A = 100, V = min(100 − 50, 90) = 50.
		name: "provisioned is the larger of the report and the ledger",
		pool: Pool{TotalBytes: 100 * GiB, FreeBytes: 90 * GiB, ProvisionedBytes: 30 * GiB,
			AllocatedBytes: 50 * GiB, Thick: true},
		want: Capacity{Ratio: 1, Total: 100 * GiB, Provisioned: 50 * GiB, Available: 100 * GiB,
			Physical: 90 * GiB, Headroom: 50 * GiB},
	}, {
		// §2.4: infinite or unknown capacity is not computed.
		name: "infinite", pool: Pool{Infinite: true, Thin: true}, want: Capacity{Unbounded: true, Ratio: 1},
	}, {
		name: "unknown", pool: Pool{Unknown: true, TotalBytes: 5}, want: Capacity{Unbounded: true, Ratio: 1},
	}, {
		// A ratio that overflows int64 saturates instead of wrapping.
		name: "saturates",
		pool: Pool{TotalBytes: math.MaxInt64 / 2, FreeBytes: math.MaxInt64 / 2, Thin: true,
			MaxOversubscription: Ratio{Value: 4}},
		want: Capacity{Thin: true, Ratio: 4, Total: math.MaxInt64 / 2, Available: math.MaxInt64,
			Physical: math.MaxInt64, Headroom: math.MaxInt64},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.pool.Capacity(tt.prov)); diff != "" {
				t.Errorf("Capacity (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCapacityFactors pins free_percent and provisioned_ratio (§2.4): V/A·100 and P/A, 0 when
// A is 0. With T = 100, F = 60, P = 40 (thick): A = 100, V = 60, so 60 % and 0.4.
func TestCapacityFactors(t *testing.T) {
	c := (&Pool{TotalBytes: 100 * GiB, FreeBytes: 60 * GiB, AllocatedBytes: 40 * GiB, Thick: true}).Capacity(ProvisionAny)
	if got := c.FreePercent(); got != 60 {
		t.Errorf("FreePercent = %v, want 60", got)
	}
	if got := c.ProvisionedRatio(); got != 0.4 {
		t.Errorf("ProvisionedRatio = %v, want 0.4", got)
	}
	var zero Capacity
	if zero.FreePercent() != 0 || zero.ProvisionedRatio() != 0 {
		t.Errorf("with A = 0: %v, %v, want 0, 0", zero.FreePercent(), zero.ProvisionedRatio())
	}
}

func TestParseRatio(t *testing.T) {
	for in, want := range map[string]Ratio{"auto": {Auto: true}, "20.0": {Value: 20}, " 1.5 ": {Value: 1.5}, "1": {Value: 1}} {
		got, err := ParseRatio(in)
		if err != nil || got != want {
			t.Errorf("ParseRatio(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0.5", "-2", "Auto", "x", "NaN", "inf"} {
		if _, err := ParseRatio(in); err == nil {
			t.Errorf("ParseRatio(%q): no error", in)
		}
	}
	if s := (Ratio{}).String(); s != "20" {
		t.Errorf("zero Ratio = %q, want 20", s)
	}
}
