package scheduler

import (
	"errors"
	"math"
	"strings"
)

// vkind is the type of an expression value: Python's int/float, bool and str.
type vkind uint8

const (
	vNum vkind = iota
	vBool
	vStr
)

// val is an expression value. A bool is also a number (1 or 0), as in Python.
type val struct {
	kind vkind
	num  float64
	str  string
}

func numVal(f float64) val { return val{kind: vNum, num: f} }
func strVal(s string) val  { return val{kind: vStr, str: s} }
func boolVal(b bool) val {
	if b {
		return val{kind: vBool, num: 1}
	}
	return val{kind: vBool}
}

func (v val) isNum() bool { return v.kind != vStr }

// truthy is Python's truth: a non-zero number (NaN included), a non-empty string.
func (v val) truthy() bool {
	if v.kind == vStr {
		return v.str != ""
	}
	return v.num != 0
}

// Evaluation errors; static, so that a failing function costs no allocation per pool.
var (
	errType       = errors.New("unsupported operand types")
	errDivZero    = errors.New("division by zero")
	errNoProtocol = errors.New("storage_protocol has no value")
)

// eval evaluates n. Every operand of and/or is evaluated (as in Cinder, an error anywhere
// fails the function); a comparison chain stops at the first false comparison; a ternary
// evaluates only the branch taken.
func eval(n *node, e *env) (val, error) {
	switch n.kind {
	case nConst:
		return n.c, nil
	case nVar:
		return e.lookup(&n.v)
	case nNeg:
		x, err := eval(n.kids[0], e)
		if err != nil || !x.isNum() {
			return val{}, orType(err)
		}
		return numVal(-x.num), nil
	case nNot:
		x, err := eval(n.kids[0], e)
		return boolVal(!x.truthy()), err
	case nArith:
		return evalArith(n, e)
	case nCmp:
		return evalChain(n, e)
	case nTern:
		c, err := eval(n.kids[0], e)
		if err != nil {
			return val{}, err
		}
		if c.truthy() {
			return eval(n.kids[1], e)
		}
		return eval(n.kids[2], e)
	case nAnd, nOr:
		return evalBool(n, e)
	}
	return evalCall(n, e)
}

func orType(err error) error {
	if err != nil {
		return err
	}
	return errType
}

// evalBool is Python's "a and b and …" (the first falsy operand, else the last) and
// "a or b or …" (the first truthy, else the last), after evaluating every operand.
func evalBool(n *node, e *env) (val, error) {
	var res val
	found := false
	for _, k := range n.kids {
		x, err := eval(k, e)
		if err != nil {
			return val{}, err
		}
		if !found && x.truthy() == (n.kind == nOr) {
			res, found = x, true
		}
		if !found {
			res = x
		}
	}
	return res, nil
}

func evalArith(n *node, e *env) (val, error) {
	a, err := eval(n.kids[0], e)
	if err != nil {
		return val{}, err
	}
	b, err := eval(n.kids[1], e)
	if err != nil {
		return val{}, err
	}
	if n.op == "+" && a.kind == vStr && b.kind == vStr {
		return strVal(a.str + b.str), nil
	}
	if !a.isNum() || !b.isNum() {
		return val{}, errType
	}
	return arith(n.op, a.num, b.num)
}

func arith(op string, a, b float64) (val, error) {
	switch op {
	case "+":
		return numVal(a + b), nil
	case "-":
		return numVal(a - b), nil
	case "*":
		return numVal(a * b), nil
	case "/":
		if b == 0 {
			return val{}, errDivZero
		}
		return numVal(a / b), nil
	}
	if a == 0 && b < 0 {
		return val{}, errDivZero
	}
	r := math.Pow(a, b)
	if r != r && a == a && b == b {
		return val{}, errType // a complex result in Python
	}
	return numVal(r), nil
}

// evalChain is a chained comparison: a < b <= c is a < b and b <= c.
func evalChain(n *node, e *env) (val, error) {
	a, err := eval(n.kids[0], e)
	if err != nil {
		return val{}, err
	}
	for i, op := range n.cmps {
		b, err := eval(n.kids[i+1], e)
		if err != nil {
			return val{}, err
		}
		ok, err := compare(op, a, b)
		if err != nil || !ok {
			return boolVal(false), err
		}
		a = b
	}
	return boolVal(true), nil
}

// compare compares two numbers or two strings; a number and a string are unequal and cannot
// be ordered (Python 3's TypeError).
func compare(op string, a, b val) (bool, error) {
	var c int
	switch {
	case a.isNum() && b.isNum():
		if op == "!=" || op == "<>" {
			return a.num != b.num, nil // NaN ≠ NaN
		}
		if a.num != a.num || b.num != b.num {
			return false, nil
		}
		c = cmpFloat(a.num, b.num)
	case a.kind == vStr && b.kind == vStr:
		c = strings.Compare(a.str, b.str)
	case op == "==":
		return false, nil
	case op == "!=" || op == "<>":
		return true, nil
	default:
		return false, errType
	}
	switch op {
	case "<":
		return c < 0, nil
	case "<=":
		return c <= 0, nil
	case ">":
		return c > 0, nil
	case ">=":
		return c >= 0, nil
	case "==":
		return c == 0, nil
	}
	return c != 0, nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// evalCall applies abs, max or min. max and min take numbers or strings, not a mix, and return
// the chosen operand itself (so max(True, 0) is True, as in Python).
func evalCall(n *node, e *env) (val, error) {
	best, err := eval(n.kids[0], e)
	if err != nil {
		return val{}, err
	}
	if n.op == "abs" {
		if !best.isNum() {
			return val{}, errType
		}
		return numVal(math.Abs(best.num)), nil
	}
	for _, k := range n.kids[1:] {
		x, err := eval(k, e)
		if err != nil {
			return val{}, err
		}
		if x.isNum() != best.isNum() {
			return val{}, errType
		}
		if n.op == "max" && greater(x, best) || n.op == "min" && greater(best, x) {
			best = x
		}
	}
	return best, nil
}

// greater is a > b for two numbers or two strings.
func greater(a, b val) bool {
	if a.isNum() {
		return a.num > b.num
	}
	return a.str > b.str
}
