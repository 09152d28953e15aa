package scheduler

import (
	"fmt"
	"strings"
)

// scope is the dictionary a function variable reads (cinder.md §2.5, DriverFilter).
type scope uint8

const (
	scopeExtra   scope = iota // extra.*: the volume type's extra specs
	scopeCaps                 // capabilities.* and stats.*: the pool
	scopeHost                 // stats.host: backend#pool
	scopeBackend              // stats.backend_id: the backend
	scopeSize                 // volume.size: GiB
	scopeZone                 // volume.availability_zone
)

// varRef is a variable resolved at compile time. missing is the error its absence raises,
// made once so that a missing value costs nothing per pool.
type varRef struct {
	scope   scope
	key     string
	cap     capRef
	missing error
}

// identifier compiles a word: scope.key is a variable; a word without a dot is a string
// constant, converted as Cinder converts every operand (so the bare word inf is a number).
func identifier(w string) (*node, error) {
	s, key, dotted := strings.Cut(w, ".")
	if !dotted {
		return &node{kind: nConst, c: convert(w)}, nil
	}
	if key == "" || strings.Contains(key, ".") {
		return nil, fmt.Errorf("unknown variable %q", w)
	}
	v, err := resolveVar(s, key)
	if err != nil {
		return nil, err
	}
	v.missing = fmt.Errorf("%s has no value", w)
	return &node{kind: nVar, v: v}, nil
}

// resolveVar resolves scope.key. stats.* offers Cinder's backend statistics (every standard
// capability key and feature); capabilities.* adds the custom attributes; volume.* offers size
// and availability_zone. qos.* is refused: Kiln does not pass QoS specs to functions.
func resolveVar(s, key string) (varRef, error) {
	switch s {
	case "extra":
		return varRef{scope: scopeExtra, key: key}, nil
	case "capabilities":
		return varRef{scope: scopeCaps, cap: resolveCap(key)}, nil
	case "stats":
		switch key {
		case "host":
			return varRef{scope: scopeHost}, nil
		case "backend_id":
			return varRef{scope: scopeBackend}, nil
		}
		if c := resolveCap(key); c.key != capCustom {
			return varRef{scope: scopeCaps, cap: c}, nil
		}
	case "volume":
		switch key {
		case "size":
			return varRef{scope: scopeSize}, nil
		case "availability_zone":
			return varRef{scope: scopeZone}, nil
		}
	}
	return varRef{}, fmt.Errorf("unknown variable %q", s+"."+key)
}

// env is what a function sees: the pool, the request, and the protocol variant in effect.
type env struct {
	p     *Pool
	req   *Request
	proto string
}

// lookup reads a variable. A value is converted as Cinder's EvalConstant does: a bool is 1 or
// 0, a string that parses as a number is that number (numbers are not truncated to integers:
// Cinder's int() of a float is a defect), and quotes are removed from other strings.
func (e *env) lookup(v *varRef) (val, error) {
	switch v.scope {
	case scopeExtra:
		s, ok := e.req.ExtraSpecs[v.key]
		if !ok {
			return val{}, v.missing
		}
		return convert(s), nil
	case scopeHost:
		return strVal(e.p.Ref().String()), nil
	case scopeBackend:
		return strVal(e.p.Backend), nil
	case scopeSize:
		return numVal(float64(e.req.Size) / GiB), nil
	case scopeZone:
		return convert(e.req.Zone), nil
	}
	c := e.p.capability(v.cap)
	switch c.kind {
	case kindString:
		return convert(c.str), nil
	case kindNumber:
		return numVal(c.num), nil
	case kindBool:
		if c.b { // int(True): a number, not a bool
			return numVal(1), nil
		}
		return numVal(0), nil
	case kindProtocols:
		return strVal(e.proto), nil
	}
	return val{}, v.missing
}

// convert is Cinder's conversion of an operand: int, else float, else the string without
// quotes.
func convert(s string) val {
	if f, ok := parseFloat(s); ok {
		return numVal(f)
	}
	if strings.ContainsAny(s, `"'`) {
		s = strings.NewReplacer(`"`, "", `'`, "").Replace(s)
	}
	return strVal(s)
}
