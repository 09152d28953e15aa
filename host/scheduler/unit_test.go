package scheduler

import (
	"math"
	"testing"
)

// TestUnits pins every unit spelling against its base unit, and that units of different
// dimensions do not compare.
func TestUnits(t *testing.T) {
	for _, tt := range []struct {
		a, b string // "1 <unit>" equals b in the base unit
		base string
		want float64
	}{
		{"B", "B", "B", 1}, {"KB", "B", "B", 1e3}, {"kB", "B", "B", 1e3}, {"KiB", "B", "B", 1 << 10},
		{"MB", "B", "B", 1e6}, {"MiB", "B", "B", 1 << 20}, {"GB", "B", "B", 1e9}, {"GiB", "B", "B", 1 << 30},
		{"TB", "B", "B", 1e12}, {"TiB", "B", "B", 1 << 40}, {"PB", "B", "B", 1e15}, {"PiB", "B", "B", 1 << 50},
		{"EB", "B", "B", 1e18}, {"EiB", "B", "B", 1 << 60},
		{"MB/s", "B/s", "B/s", 1e6}, {"GiB/s", "B/s", "B/s", 1 << 30},
		{"ns", "s", "s", 1e-9}, {"us", "s", "s", 1e-6}, {"µs", "s", "s", 1e-6}, {"ms", "s", "s", 1e-3},
		{"min", "s", "s", 60}, {"h", "s", "s", 3600},
		{"kHz", "Hz", "Hz", 1e3}, {"KHz", "Hz", "Hz", 1e3}, {"MHz", "Hz", "Hz", 1e6}, {"GHz", "Hz", "Hz", 1e9},
		{"kIOPS", "IOPS", "IOPS", 1e3}, {"KIOPS", "IOPS", "IOPS", 1e3},
	} {
		x, y, ok := commensurate(1, tt.a, tt.want, tt.base)
		if !ok || x != y {
			t.Errorf("1 %s vs %v %s: %v, %v, %v", tt.a, tt.want, tt.base, x, y, ok)
		}
	}
	for _, pair := range [][2]string{{"ms", "GiB"}, {"MB", "MB/s"}, {"Hz", "IOPS"}, {"Mb", "MB"}, {"x", "y"}} {
		if _, _, ok := commensurate(1, pair[0], 1, pair[1]); ok {
			t.Errorf("%s and %s compare", pair[0], pair[1])
		}
	}
}

// TestParseQuantity pins number parsing: Python's float() plus a unit suffix.
func TestParseQuantity(t *testing.T) {
	for _, tt := range []struct {
		in   string
		num  float64
		unit string
		ok   bool
	}{
		{"5", 5, "", true}, {" 2.5 ", 2.5, "", true}, {"-3", -3, "", true}, {"+1", 1, "", true},
		{"1e3", 1000, "", true}, {"4EiB", 4, "EiB", true}, {"2e1ms", 20, "ms", true}, {"5 GiB", 5, "GiB", true},
		{".5", 0.5, "", true}, {"5.", 5, "", true}, {"inf", math.Inf(1), "", true},
		{"1e999", math.Inf(1), "", true},
		{"", 0, "", false}, {"abc", 0, "", false}, {"0x10", 0, "", false}, {"1_000", 0, "", false},
		{"GiB", 0, "", false}, {"-", 0, "", false},
	} {
		num, unit, ok := parseQuantity(tt.in)
		if ok != tt.ok || ok && (num != tt.num || unit != tt.unit) {
			t.Errorf("parseQuantity(%q) = %v, %q, %v; want %v, %q, %v", tt.in, num, unit, ok, tt.num, tt.unit, tt.ok)
		}
	}
}

// TestStrings pins the String methods the explanations and logs use.
func TestStrings(t *testing.T) {
	for got, want := range map[string]string{
		(FeatureMultiattach | FeatureSnapshots).String(): "snapshots+multiattach",
		Features(0).String():                             "none",
		PoolDown.String():                                "down",
		PoolState(9).String():                            "PoolState(9)",
		ProvisionThick.String():                          "thick",
		ProvisionAny.String():                            "any",
		PoolRef{"lvm", "vg0"}.String():                   "lvm#vg0",
		Ratio{Auto: true}.String():                       "auto",
		Ratio{Value: 1.5}.String():                       "1.5",
		formatBytes(1536):                                "1.5 KiB",
		formatBytes(-3 * GiB):                            "-3 GiB",
		formatBytes(0):                                   "0 B",
		formatBytes(1 << 62):                             "4 EiB",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}
