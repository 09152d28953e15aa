package scheduler

import (
	"strconv"
	"strings"
)

// kind is the type of a capability value.
type kind uint8

const (
	kindNone      kind = iota // missing, Python's None
	kindString                // str
	kindNumber                // int or float, with an optional unit
	kindBool                  // bool
	kindProtocols             // the pool's protocol variants: a list, any element may match
)

// value is one capability value. It is passed by value and never allocates.
type value struct {
	kind kind
	str  string
	num  float64
	b    bool
	unit string
}

func stringValue(s string) value            { return value{kind: kindString, str: s} }
func numberValue(n float64, u string) value { return value{kind: kindNumber, num: n, unit: u} }
func boolValue(b bool) value                { return value{kind: kindBool, b: b} }

// number is Python's float(value) extended with units: a bool is 1 or 0, a string is parsed
// with an optional unit suffix ("5ms").
func (v value) number() (float64, string, bool) {
	switch v.kind {
	case kindNumber:
		return v.num, v.unit, true
	case kindBool:
		if v.b {
			return 1, "", true
		}
		return 0, "", true
	case kindString:
		return parseQuantity(v.str)
	}
	return 0, "", false
}

// text is the value as a string, for the s-operators and <in>: booleans spell True and False
// as Python does; numbers in the shortest exact form, without unit.
func (v value) text() string {
	switch v.kind {
	case kindString:
		return v.str
	case kindNumber:
		return strconv.FormatFloat(v.num, 'f', -1, 64)
	case kindBool:
		if v.b {
			return "True"
		}
		return "False"
	}
	return ""
}

// parseFloat is Python's float(s): surrounding spaces allowed, decimal only (inf and nan
// included), no hexadecimal and no digit separators.
func parseFloat(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsAny(s, "xX_") {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return 0, false
		}
	}
	return f, true
}

// parseQuantity parses a number with an optional unit suffix: "5", "2.5GiB", "10 ms". A
// unit is letters, optionally per something ("MB/s"); "0x10" or "1_000" is not a number.
func parseQuantity(s string) (float64, string, bool) {
	s = strings.TrimSpace(s)
	n := numberPrefix(s)
	if n == len(s) || n == 0 {
		f, ok := parseFloat(s)
		return f, "", ok
	}
	u := strings.TrimSpace(s[n:])
	if !isUnit(u) {
		return 0, "", false
	}
	f, ok := parseFloat(s[:n])
	return f, u, ok
}

// isUnit reports whether u is spelled as a unit: letters (µ and % included), with one '/'
// between letters.
func isUnit(u string) bool {
	per := false
	for i, r := range u {
		switch {
		case r == '/' && !per && i > 0 && i < len(u)-1:
			per = true
		case r == 'µ' || r == '%' || (r|0x20) >= 'a' && (r|0x20) <= 'z':
		default:
			return false
		}
	}
	return u != ""
}

// numberPrefix returns the length of the decimal number at the start of s: sign, digits,
// fraction, and an exponent only when digits follow the 'e' (so "4EiB" is 4 EiB).
func numberPrefix(s string) int {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	start := i
	i = digits(s, i)
	if i < len(s) && s[i] == '.' {
		i = digits(s, i+1)
	}
	if i == start {
		return 0
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if k := digits(s, j); k > j {
			i = k
		}
	}
	return i
}

func digits(s string, i int) int {
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// boolFromString is oslo's strutils.bool_from_string(s) with its default: true for 1, t, true,
// on, y, yes (any case), false for anything else.
func boolFromString(s string) bool {
	b, ok := strictBool(s)
	return ok && b
}

// strictBool recognises oslo's true and false spellings, in any case; ok is false for anything
// else.
func strictBool(s string) (b, ok bool) {
	s = strings.TrimSpace(s)
	for _, t := range [...]string{"1", "t", "true", "on", "y", "yes"} {
		if strings.EqualFold(s, t) {
			return true, true
		}
	}
	for _, f := range [...]string{"0", "f", "false", "off", "n", "no"} {
		if strings.EqualFold(s, f) {
			return false, true
		}
	}
	return false, false
}

// truth is <is>'s view of a capability value: a bool as is, anything else through
// boolFromString of its text.
func (v value) truth() bool {
	if v.kind == kindBool {
		return v.b
	}
	return boolFromString(v.text())
}
