package scheduler

import (
	"slices"
	"strings"
)

// op is an extra-spec operator (cinder.md §2.5, extra_specs_ops.py).
type op uint8

const (
	opPlain   op = iota // no operator: equality with the whole requirement
	opAtLeast           // =   numeric ≥ ("at least", not equality)
	opEq                // ==  numeric
	opNe                // !=  numeric
	opGe                // >=  numeric
	opLe                // <=  numeric
	opLt                // <   numeric (Kiln)
	opGt                // >   numeric (Kiln)
	opSEq               // s==
	opSNe               // s!=
	opSLt               // s<
	opSLe               // s<=
	opSGt               // s>
	opSGe               // s>=
	opIn                // <in> substring or membership
	opIs                // <is> boolean
	opOr                // <or> one of the alternatives
)

// ops maps an operator word to its operator; a read-only table.
var ops = map[string]op{
	"=": opAtLeast, "==": opEq, "!=": opNe, ">=": opGe, "<=": opLe, "<": opLt, ">": opGt,
	"s==": opSEq, "s!=": opSNe, "s<": opSLt, "s<=": opSLe, "s>": opSGt, "s>=": opSGe,
	"<in>": opIn, "<is>": opIs, "<or>": opOr,
}

// quantity is a word read as a number with an optional unit.
type quantity struct {
	word string
	num  float64
	unit string
	ok   bool
}

func parseWord(w string) quantity {
	n, u, ok := parseQuantity(w)
	return quantity{word: w, num: n, unit: u, ok: ok}
}

// spec is one extra spec compiled once per decision: the capability it reads, the operator,
// and the operand pre-parsed as a string, a quantity and a boolean.
type spec struct {
	key, req string
	cap      capRef
	op       op
	operand  quantity   // the word after the operator (and a unit word after it)
	has      bool       // the operand is present
	alts     []quantity // <or>'s alternatives; for opPlain, the whole requirement
}

// compileSpecs compiles the extra specs CapabilitiesFilter matches, sorted by key: unscoped
// keys and keys in the capabilities scope; other scopes (provisioning:, QoS:, RESKEY:, …) are
// not capabilities. The remaining parts of a scoped key name one attribute, joined by ':'.
func compileSpecs(extra map[string]string) []spec {
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	specs := make([]spec, 0, len(keys))
	for _, k := range keys {
		name, ok := capabilityKey(k)
		if !ok {
			continue
		}
		specs = append(specs, compileSpec(k, resolveCap(name), extra[k]))
	}
	return specs
}

// capabilityKey strips the capabilities scope; ok is false for a key in another scope.
func capabilityKey(k string) (string, bool) {
	scope, rest, scoped := strings.Cut(k, ":")
	switch {
	case !scoped:
		return k, true
	case scope == "capabilities":
		return rest, true
	}
	return "", false
}

// compileSpec parses a requirement: the first word may be an operator, and only the next word
// is its operand (a unit may follow as a separate word: ">= 5 GiB").
func compileSpec(key string, c capRef, req string) spec {
	s := spec{key: key, req: req, cap: c}
	words := strings.Fields(req)
	o, known := opPlain, false
	if len(words) > 0 {
		o, known = ops[words[0]]
	}
	switch {
	case !known:
		s.op, s.alts = opPlain, []quantity{parseWord(req)}
	case o == opOr:
		s.op = opOr
		for i := 1; i < len(words); i += 2 { // Cinder skips every other word, "<or>" or not
			s.alts = append(s.alts, parseWord(words[i]))
		}
	default:
		s.op = o
		s.has = len(words) > 1
		if s.has {
			s.operand = operandWord(words[1:])
		}
	}
	return s
}

// operandWord reads the operand, joining a unit given as the next word.
func operandWord(words []string) quantity {
	q := parseWord(words[0])
	if q.ok && q.unit == "" && len(words) > 1 {
		if _, ok := lookupUnit(words[1]); ok {
			q.unit = words[1]
		}
	}
	return q
}

// matches reports whether the pool satisfies the spec. A missing capability fails; a list
// (the protocol variants) matches when any element does.
func (s *spec) matches(p *Pool) bool {
	v := p.capability(s.cap)
	if v.kind != kindProtocols {
		return s.matchValue(v)
	}
	var one [1]string
	for _, proto := range p.Protocols {
		for _, name := range variants(proto, &one) {
			if s.matchValue(stringValue(name)) {
				return true
			}
		}
	}
	return false
}

// matchValue applies the operator to one value. A missing value (Python's None) never
// matches; an operator without operand never matches; a number that does not parse never
// matches (Cinder's ValueError).
func (s *spec) matchValue(v value) bool {
	switch {
	case v.kind == kindNone:
		return false
	case s.op == opPlain || s.op == opOr:
		for _, q := range s.alts {
			if equal(v, q) {
				return true
			}
		}
		return false
	case !s.has:
		return false
	case s.op == opIn:
		return strings.Contains(v.text(), s.operand.word)
	case s.op == opIs:
		return v.truth() == boolFromString(s.operand.word)
	case s.op >= opSEq:
		return compareText(s.op, v.text(), s.operand.word)
	}
	return s.compareNumber(v)
}

// equal is equality of a typed value with a word: strings exactly, booleans by oslo's
// spellings, numbers numerically (with units). Cinder compares the Python objects, so a
// boolean or numeric capability never equals any string.
func equal(v value, q quantity) bool {
	switch v.kind {
	case kindString:
		return v.str == q.word
	case kindBool:
		b, ok := strictBool(q.word)
		return ok && b == v.b
	case kindNumber:
		if !q.ok {
			return false
		}
		a, b, ok := commensurate(v.num, v.unit, q.num, q.unit)
		return ok && a == b
	}
	return false
}

// compareNumber applies a numeric operator, after bringing both sides to one unit.
func (s *spec) compareNumber(v value) bool {
	x, u, ok := v.number()
	if !ok || !s.operand.ok {
		return false
	}
	a, b, ok := commensurate(x, u, s.operand.num, s.operand.unit)
	if !ok {
		return false
	}
	switch s.op {
	case opAtLeast, opGe:
		return a >= b
	case opEq:
		return a == b
	case opNe:
		return a != b
	case opLe:
		return a <= b
	case opLt:
		return a < b
	case opGt:
		return a > b
	}
	return false
}

// compareText applies a string operator.
func compareText(o op, a, b string) bool {
	switch o {
	case opSEq:
		return a == b
	case opSNe:
		return a != b
	case opSLt:
		return a < b
	case opSLe:
		return a <= b
	case opSGt:
		return a > b
	case opSGe:
		return a >= b
	}
	return false
}
