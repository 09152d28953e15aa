package scheduler

import (
	"errors"
	"testing"
)

// TestJSONFilter pins JsonFilter (cinder.md §2.5, json_filter.py): the first argument against
// every other, "$" lookups, None dropped, a list result passing when any element is truthy.
func TestJSONFilter(t *testing.T) {
	p := Pool{Backend: "lvm", Name: "fast", Zone: "az1", TotalBytes: 1000 * GiB, FreeBytes: 200 * GiB,
		VendorName: "Open Source", Thin: true, Protocols: []string{"iscsi"},
		Attributes: map[string]Attribute{"tier": StringAttr("gold"), "raid:level": IntAttr(10, "")}}
	for _, tt := range []struct {
		query string
		want  bool
	}{
		{``, true},
		{`[]`, true},
		{`["=", "$free_capacity_gb", 200]`, true},
		{`["=", "$free_capacity_gb", 200, 201]`, false}, // against every other
		{`[">=", "$free_capacity_gb", 100, 150]`, true},
		{`["<", "$free_capacity_gb", 100]`, false},
		{`[">", "$total_capacity_gb", 999]`, true},
		{`["<=", "$total_capacity_gb", 1000]`, true},
		{`["in", "$pool_name", "slow", "fast"]`, true},
		{`["in", "$pool_name", "slow"]`, false},
		{`["=", "$thin_provisioning_support", true]`, true},
		{`["=", "$thin_provisioning_support", 1]`, true}, // True == 1 in Python
		{`["=", "$vendor_name", "Open Source"]`, true},
		{`["=", "$storage_protocol", "iscsi"]`, true}, // the protocol as reported
		{`["=", "$capabilities.tier", "gold"]`, true},
		{`["=", "$capabilities.raid.level", 10]`, true}, // nested keys: raid:level
		{`["=", "$service.availability_zone", "az1"]`, true},
		{`["=", "$host", "lvm#fast"]`, true},
		{`["=", "$backend_id", "lvm"]`, true},
		{`["=", "$missing", 1]`, false},       // None dropped: one argument left → False
		{`["=", "$missing", "", 5, 5]`, true}, // "" dropped too: 5 = 5
		{`["=", "$free_capacity_gb"]`, false}, // fewer than two arguments
		{`["<", "$vendor_name", 5]`, false},   // Cinder: TypeError
		{`["and", [">", "$free_capacity_gb", 100], ["=", "$capabilities.tier", "gold"]]`, true},
		{`["and", [">", "$free_capacity_gb", 300], ["=", "$capabilities.tier", "gold"]]`, false},
		{`["or", [">", "$free_capacity_gb", 300], ["=", "$capabilities.tier", "gold"]]`, true},
		{`["and"]`, true}, // all([]) is True
		{`["or"]`, false},
		{`["not", ["=", "$capabilities.tier", "gold"]]`, false},
		{`["not", ["=", "$capabilities.tier", "silver"]]`, true},
		{`["not", false, true]`, true}, // a list: any element truthy
		// Cinder: not returns a non-empty list, which "and" treats as True whatever it holds.
		{`["and", ["not", true], true]`, false},
		{`["and", [], true]`, true}, // an empty nested query is True
		{`["=", ["not", true, 1], ["not", true, 1]]`, true},
		{`["=", ["not", true], ["not", true, 1]]`, false},
		{`["=", ["not", true], false]`, false}, // [False] == False is False
		{`["in", "$capabilities.missing", 1]`, false},
	} {
		t.Run(tt.query, func(t *testing.T) {
			if got := passes(t, filterJSON, p, Request{Hints: Hints{Query: tt.query}}); got != tt.want {
				t.Errorf("passes = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestJSONFilterInvalid: Cinder raises inside the filter and fails the request; Kiln refuses
// the request up front with ErrInvalidRequest.
func TestJSONFilterInvalid(t *testing.T) {
	for _, q := range []string{`[`, `{"a": 1}`, `["like", 1, 2]`, `[1, 2]`, `["=", {"a": 1}, 1]`, `"x"`} {
		_, err := Pick(Config{Filters: []string{filterJSON}}, []Pool{{}}, Request{Hints: Hints{Query: q}})
		if !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("%s: err = %v, want ErrInvalidRequest", q, err)
		}
	}
}

// FuzzQuery: no query hint, a user's input, makes Pick panic.
func FuzzQuery(f *testing.F) {
	for _, q := range []string{`["=", "$free_capacity_gb", 200]`, `["and", ["not", true], ["in", 1, 2, 1]]`,
		`["<", "$capabilities.tier", "$vendor_name", null, ""]`, `[[]]`, `["or", [">=", 1.5, false]]`} {
		f.Add(q)
	}
	pools := []Pool{{Backend: "a", Name: "p", TotalBytes: GiB, Protocols: []string{"iscsi"},
		Attributes: map[string]Attribute{"tier": StringAttr("gold")}}, {Infinite: true}}
	f.Fuzz(func(t *testing.T, q string) {
		_, err := Pick(Config{Filters: []string{filterJSON}}, pools, Request{Hints: Hints{Query: q}})
		if err != nil && !errors.Is(err, ErrInvalidRequest) && !errors.Is(err, ErrNoValidPool) {
			t.Fatalf("%q: %v", q, err)
		}
	})
}
