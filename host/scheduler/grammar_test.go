package scheduler

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestGrammar pins the extra-spec operator grammar (cinder.md §2.5, extra_specs_ops.match)
// case by case, over a custom attribute "x". Where Kiln departs from Cinder the case says so.
func TestGrammar(t *testing.T) {
	var none Attribute // Kind 0: the pool has no such capability
	tests := []struct {
		name string
		x    Attribute
		req  string
		want bool
	}{
		// A plain requirement (no known operator) is equality with the whole string.
		{"plain string", StringAttr("gold"), "gold", true},
		{"plain is case-sensitive", StringAttr("gold"), "Gold", false},
		{"plain compares the whole requirement", StringAttr("a b"), "a b", true},
		{"plain is not split", StringAttr("x"), "  x", false},
		{"unknown operator is plain", StringAttr("<and> x"), "<and> x", true},
		// Kiln: typed values compare by type. Cinder compares a bool or a number with a str,
		// which is never equal.
		{"plain bool (Cinder: never)", BoolAttr(true), "True", true},
		{"plain bool false", BoolAttr(true), "False", false},
		{"plain bool, not a bool word", BoolAttr(true), "maybe", false},
		{"plain number (Cinder: never)", IntAttr(5, ""), "5", true},
		{"plain number with units", IntAttr(5, "GiB"), "5120MiB", true},
		// "=" is "at least": float(value) >= float(operand).
		{"= above", IntAttr(10, ""), "= 5", true},
		{"= equal", IntAttr(10, ""), "= 10", true},
		{"= below", IntAttr(10, ""), "= 11", false},
		{"= on a numeric string", StringAttr("10"), "= 9.5", true},
		{"= on a word: ValueError", StringAttr("abc"), "= 1", false},
		{"= on a bool: float(True) is 1", BoolAttr(true), "= 1", true},
		{"= without operand", IntAttr(10, ""), "=", false},
		{"= with a word operand", IntAttr(10, ""), "= abc", false},
		{"only the next word is the operand", IntAttr(10, ""), "= 5 99", true},
		{"== equal", IntAttr(10, ""), "== 10.0", true},
		{"== not equal", IntAttr(10, ""), "== 11", false},
		{"!= different", IntAttr(10, ""), "!= 11", true},
		{"!= same", IntAttr(10, ""), "!= 10", false},
		{">= ", FloatAttr(2.5, ""), ">= 2.5", true},
		{"<= ", FloatAttr(2.5, ""), "<= 2.4", false},
		// Kiln adds < and > (Cinder has no such operator: its requirement "< 6" is plain).
		{"< (Kiln)", IntAttr(5, ""), "< 6", true},
		{"> (Kiln)", IntAttr(5, ""), "> 6", false},
		// Units: a side without a unit takes the other's; one dimension converts; another
		// dimension or an unknown unit does not compare.
		{"units: ms", FloatAttr(2, "ms"), "<= 5ms", true},
		{"units: ms against s", FloatAttr(2, "ms"), "<= 0.001s", false},
		{"units: unit as the next word", FloatAttr(2, "ms"), "<= 5 ms", true},
		{"units: unitless operand", FloatAttr(2, "ms"), "<= 5", true},
		{"units: other dimension", FloatAttr(2, "ms"), "<= 5GiB", false},
		{"units: bytes", IntAttr(2, "TiB"), ">= 2048GiB", true},
		{"units: SI and IEC", IntAttr(1, "GB"), "< 1GiB", true},
		{"units: byte rate", IntAttr(500, "MB/s"), "= 0.5GB/s", true},
		{"units: opaque, same", IntAttr(3, "widgets"), "<= 5widgets", true},
		{"units: opaque, other", IntAttr(3, "widgets"), "<= 5gadgets", false},
		{"units: unknown suffix on a unitless value", IntAttr(3, ""), "<= 5gadgets", true},
		{"units: string value with a unit", StringAttr("4GiB"), ">= 4096MiB", true},
		// s-operators compare strings.
		{"s==", StringAttr("abc"), "s== abc", true},
		{"s!=", StringAttr("abc"), "s!= abc", false},
		{"s<", StringAttr("abc"), "s< abd", true},
		{"s<=", StringAttr("abc"), "s<= abc", true},
		{"s>", StringAttr("abc"), "s> abb", true},
		{"s>=", StringAttr("abc"), "s>= abd", false},
		{"s< is lexical: 10.0 < 9.0", StringAttr("10.0"), "s< 9.0", true},
		{"s== on a number (Cinder: never)", IntAttr(5, ""), "s== 5", true},
		{"s== without operand", StringAttr("abc"), "s==", false},
		// <in> is containment.
		{"<in> substring", StringAttr("gold-fast"), "<in> fast", true},
		{"<in> absent", StringAttr("gold-fast"), "<in> slow", false},
		// <is> is bool_from_string(value) is bool_from_string(operand); an unknown word is False.
		{"<is> True", BoolAttr(true), "<is> True", true},
		{"<is> true", BoolAttr(true), "<is> true", true},
		{"<is> False", BoolAttr(true), "<is> False", false},
		{"<is> garbage is False", BoolAttr(false), "<is> garbage", true},
		{"<is> on a string", StringAttr("yes"), "<is> True", true},
		{"<is> without operand", BoolAttr(true), "<is>", false},
		// <or>: the value equals one of the alternatives. Cinder takes every other word as an
		// alternative, whatever the words between are.
		{"<or> match", StringAttr("b"), "<or> a <or> b <or> c", true},
		{"<or> no match", StringAttr("d"), "<or> a <or> b <or> c", false},
		{"<or> skips every other word", StringAttr("b"), "<or> a b c", false},
		{"<or> takes the third word", StringAttr("c"), "<or> a b c", true},
		{"<or> alone (Cinder: IndexError)", StringAttr("a"), "<or>", false},
		{"<or> on a number", IntAttr(2, ""), "<or> 1 <or> 2", true},
		// A missing capability (None) never matches, whatever the operator.
		{"missing, plain", none, "x", false},
		{"missing, <is> False", none, "<is> False", false},
		{"missing, !=", none, "!= 1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Pool{Attributes: map[string]Attribute{"x": tt.x}}
			if tt.x.Kind == 0 {
				p.Attributes = nil
			}
			s := compileSpec("x", resolveCap("x"), tt.req)
			if got := s.matches(p); got != tt.want {
				t.Errorf("match(%+v, %q) = %v, want %v", tt.x, tt.req, got, tt.want)
			}
		})
	}
}

// TestStandardCapabilities pins the values the standard keys read, in Cinder's units.
func TestStandardCapabilities(t *testing.T) {
	p := &Pool{Backend: "b", Name: "p", VendorName: "Open Source", DriverVersion: "1.2",
		TotalBytes: 100 * GiB, FreeBytes: 25 * GiB, AllocatedBytes: 10 * GiB, ProvisionedBytes: 30 * GiB,
		ReservedPercent: 5, Thin: true, MaxOversubscription: Ratio{Value: 2}, Volumes: 7,
		State: PoolDegraded, Features: FeatureMultiattach | FeatureExtendOnline}
	got := map[string]value{}
	for _, k := range []string{"volume_backend_name", "pool_name", "vendor_name", "driver_version",
		"total_capacity_gb", "free_capacity_gb", "allocated_capacity_gb", "provisioned_capacity_gb",
		"reserved_percentage", "max_over_subscription_ratio", "thin_provisioning_support",
		"thick_provisioning_support", "total_volumes", "backend_state", "multiattach",
		"online_extend_support", "extend_online", "QoS_support", "storage_protocol"} {
		got[k] = p.capability(resolveCap(k))
	}
	want := map[string]value{
		"volume_backend_name": stringValue("b"), "pool_name": stringValue("p"),
		"vendor_name": stringValue("Open Source"), "driver_version": stringValue("1.2"),
		"total_capacity_gb": numberValue(100, "GiB"), "free_capacity_gb": numberValue(25, "GiB"),
		"allocated_capacity_gb": numberValue(10, "GiB"), "provisioned_capacity_gb": numberValue(30, "GiB"),
		"reserved_percentage": numberValue(5, ""), "max_over_subscription_ratio": numberValue(2, ""),
		"thin_provisioning_support": boolValue(true), "thick_provisioning_support": boolValue(false),
		"total_volumes": numberValue(7, ""), "backend_state": stringValue("degraded"),
		"multiattach": boolValue(true), "online_extend_support": boolValue(true),
		"extend_online": boolValue(true), "QoS_support": boolValue(false),
		"storage_protocol": {}, // no protocols: missing
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(value{})); diff != "" {
		t.Errorf("capabilities (-want +got):\n%s", diff)
	}
	inf := &Pool{Infinite: true}
	if v := inf.capability(resolveCap("free_capacity_gb")); v != stringValue("infinite") {
		t.Errorf("infinite free_capacity_gb = %+v", v)
	}
}

// TestCompileSpecs pins which keys CapabilitiesFilter reads, in key order.
func TestCompileSpecs(t *testing.T) {
	specs := compileSpecs(map[string]string{
		"provisioning:type": "thin", "capabilities:a:b": "x", "z": "1", "QoS:read": "2", "capabilities:y": "3",
	})
	var got []string
	for _, s := range specs {
		got = append(got, s.key+"→"+s.cap.name)
	}
	want := []string{"capabilities:a:b→a:b", "capabilities:y→y", "z→z"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("specs (-want +got):\n%s", diff)
	}
}
