package scheduler

import "strings"

// eval evaluates the command for the pool.
func (q *jquery) eval(p *Pool) jval {
	var buf [4]jval
	args := buf[:0]
	for i := range q.args {
		a := &q.args[i]
		v := a.lit
		switch {
		case a.sub != nil:
			v = a.sub.eval(p)
		case a.lookup != "":
			v = jlookup(p, a.lookup)
		}
		if v.kind != jNull {
			args = append(args, v)
		}
	}
	return jcommand(q.cmd, args)
}

// jlookup reads "$name" from the pool: host, backend_id, a standard capability key or
// feature, capabilities.<key> (nested keys joined by ':'), service.availability_zone.
func jlookup(p *Pool, name string) jval {
	head, rest, nested := strings.Cut(name, ".")
	switch {
	case head == "capabilities" && nested:
		return fromValue(p, p.capability(resolveCap(strings.ReplaceAll(rest, ".", ":"))))
	case head == "service" && rest == "availability_zone":
		return jval{kind: jStr, s: p.Zone}
	case nested:
		return jval{}
	case head == "host":
		return jval{kind: jStr, s: p.Ref().String()}
	case head == "backend_id":
		return jval{kind: jStr, s: p.Backend}
	}
	if c := resolveCap(head); c.key != capCustom {
		return fromValue(p, p.capability(c))
	}
	return jval{}
}

// fromValue converts a capability value; the protocol list reads as the protocol reported.
func fromValue(p *Pool, v value) jval {
	switch v.kind {
	case kindString, kindProtocols:
		return jval{kind: jStr, s: v.str}
	case kindNumber:
		return jval{kind: jNum, n: v.num}
	case kindBool:
		return jval{kind: jBool, b: v.b}
	}
	return jval{}
}

// jkind is the type of a query value.
type jkind uint8

const (
	jNull jkind = iota
	jBool
	jNum
	jStr
	jList
)

// jval is a query value: Python's None, bool, number, str, or the list "not" returns.
type jval struct {
	kind jkind
	b    bool
	n    float64
	s    string
	list []jval
}

func (v jval) truthy() bool {
	switch v.kind {
	case jBool:
		return v.b
	case jNum:
		return v.n != 0
	case jStr:
		return v.s != ""
	case jList:
		for _, e := range v.list {
			if e.truthy() {
				return true // a list result passes when any element does
			}
		}
	}
	return false
}

// number is the value as a number; a bool is 1 or 0 as in Python.
func (v jval) number() (float64, bool) {
	switch v.kind {
	case jNum:
		return v.n, true
	case jBool:
		if v.b {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

func jcommand(cmd string, args []jval) jval {
	switch cmd {
	case "not":
		out := make([]jval, len(args))
		for i, a := range args {
			out[i] = jval{kind: jBool, b: !a.truthy()}
		}
		return jval{kind: jList, list: out}
	case "or", "and":
		want := cmd == "or"
		for _, a := range args {
			if a.truthy() == want {
				return jval{kind: jBool, b: want}
			}
		}
		return jval{kind: jBool, b: !want}
	}
	if len(args) < 2 {
		return jval{kind: jBool}
	}
	for _, a := range args[1:] {
		ok := jcompare(cmd, args[0], a)
		if cmd == "in" && ok {
			return jval{kind: jBool, b: true}
		}
		if cmd != "in" && !ok {
			return jval{kind: jBool}
		}
	}
	return jval{kind: jBool, b: cmd != "in"}
}

// jcompare compares two values; values of different types are unequal and unordered (Cinder
// raises TypeError and fails the whole request).
func jcompare(cmd string, a, b jval) bool {
	if cmd == "=" || cmd == "in" {
		return jequal(a, b)
	}
	var c int
	x, okA := a.number()
	y, okB := b.number()
	switch {
	case okA && okB:
		if x != x || y != y {
			return false
		}
		c = cmpFloat(x, y)
	case a.kind == jStr && b.kind == jStr:
		c = strings.Compare(a.s, b.s)
	default:
		return false
	}
	switch cmd {
	case "<":
		return c < 0
	case ">":
		return c > 0
	case "<=":
		return c <= 0
	}
	return c >= 0
}

func jequal(a, b jval) bool {
	x, okA := a.number()
	y, okB := b.number()
	switch {
	case okA && okB:
		return x == y
	case a.kind != b.kind:
		return false
	case a.kind == jStr:
		return a.s == b.s
	case a.kind == jList:
		if len(a.list) != len(b.list) {
			return false
		}
		for i := range a.list {
			if !jequal(a.list[i], b.list[i]) {
				return false
			}
		}
		return true
	}
	return a.kind == jNull
}
