package scheduler

import (
	"errors"
	"fmt"
)

// nodeKind is the kind of an expression node.
type nodeKind uint8

const (
	nConst nodeKind = iota
	nVar
	nNeg   // unary minus
	nNot   // not
	nArith // + - * / ^
	nCmp   // a chain of comparisons
	nTern  // c ? a : b
	nAnd
	nOr
	nCall // abs, max, min
)

// node is a parsed filter or goodness function.
type node struct {
	kind nodeKind
	op   string   // the arithmetic operator or the function name
	c    val      // nConst
	v    varRef   // nVar
	kids []*node  // operands
	cmps []string // nCmp: the operators between kids
}

// CheckFunction reports a syntax error, an unknown variable or an unknown function in a
// filter_function or goodness_function, for the host to refuse a bad configuration early.
func CheckFunction(src string) error {
	_, err := compile(src)
	return err
}

// MaxFunction bounds the length of a filter or goodness function and of a query hint, and
// with it the depth of their parse trees and the cost of evaluating them once per pool.
const MaxFunction = 4096

// parse parses a function with Cinder's precedence (cinder.md §2.6), loosest first:
// or, and, ?:, comparisons (chainable), not, + -, * /, unary + -, ^ (right), functions.
func parse(src string) (*node, error) {
	if len(src) > MaxFunction {
		return nil, fmt.Errorf("longer than %d bytes", MaxFunction)
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	if len(toks) == 1 {
		return nil, errors.New("empty expression")
	}
	p := &parser{toks: toks}
	n, err := p.or()
	if err == nil && p.peek().kind != tokEOF {
		err = p.unexpected()
	}
	return n, err
}

type parser struct {
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token { t := p.toks[p.i]; p.i++; return t }

// isOp reports whether the next token is one of the operators.
func (p *parser) isOp(ops ...string) bool {
	t := p.peek()
	if t.kind != tokOp {
		return false
	}
	for _, o := range ops {
		if t.text == o {
			return true
		}
	}
	return false
}

func (p *parser) unexpected() error {
	t := p.peek()
	if t.kind == tokEOF {
		return errors.New("unexpected end of expression")
	}
	return fmt.Errorf("unexpected %q at offset %d", t.text, t.pos)
}

func (p *parser) expect(k tokKind, what string) error {
	if p.peek().kind != k {
		return fmt.Errorf("%s expected: %w", what, p.unexpected())
	}
	p.i++
	return nil
}

// chain parses operand (op operand)* into one node of kind k holding every operand: and, or,
// and comparison chains. (Cinder's and/or nodes read only their first two operands, so that
// "a and b and c" ignores c: a defect not kept.)
func (p *parser) chain(k nodeKind, operand func() (*node, error), ops ...string) (*node, error) {
	n, err := operand()
	if err != nil || !p.isOp(ops...) {
		return n, err
	}
	list := &node{kind: k, kids: []*node{n}}
	for p.isOp(ops...) {
		o := p.next().text
		m, err := operand()
		if err != nil {
			return nil, err
		}
		list.kids, list.cmps = append(list.kids, m), append(list.cmps, o)
	}
	return list, nil
}

// arith parses a left-associative arithmetic level into binary nodes.
func (p *parser) arith(operand func() (*node, error), ops ...string) (*node, error) {
	n, err := operand()
	for err == nil && p.isOp(ops...) {
		o := p.next().text
		var m *node
		if m, err = operand(); err == nil {
			n = &node{kind: nArith, op: o, kids: []*node{n, m}}
		}
	}
	return n, err
}

func (p *parser) or() (*node, error)  { return p.chain(nOr, p.and, "or") }
func (p *parser) and() (*node, error) { return p.chain(nAnd, p.tern, "and") }

// tern parses c ? a : b, right-associative.
func (p *parser) tern() (*node, error) {
	c, err := p.cmp()
	if err != nil || p.peek().kind != tokQuestion {
		return c, err
	}
	p.i++
	a, err := p.tern()
	if err != nil {
		return nil, err
	}
	if err := p.expect(tokColon, "':'"); err != nil {
		return nil, err
	}
	b, err := p.tern()
	if err != nil {
		return nil, err
	}
	return &node{kind: nTern, kids: []*node{c, a, b}}, nil
}

func (p *parser) cmp() (*node, error) {
	return p.chain(nCmp, p.not, "<", "<=", ">", ">=", "==", "!=", "<>")
}

func (p *parser) not() (*node, error) {
	if !p.isOp("not") {
		return p.add()
	}
	p.i++
	n, err := p.not()
	if err != nil {
		return nil, err
	}
	return &node{kind: nNot, kids: []*node{n}}, nil
}

func (p *parser) add() (*node, error) { return p.arith(p.mul, "+", "-") }
func (p *parser) mul() (*node, error) { return p.arith(p.sign, "*", "/") }

// sign parses unary + and -, which bind looser than ^: -2^2 is -4.
func (p *parser) sign() (*node, error) {
	if !p.isOp("+", "-") {
		return p.pow()
	}
	neg := p.next().text == "-"
	n, err := p.sign()
	if err != nil || !neg {
		return n, err
	}
	return &node{kind: nNeg, kids: []*node{n}}, nil
}

// pow parses a ^ b, right-associative; its operands are calls or atoms (2^-1 does not parse,
// as in Cinder).
func (p *parser) pow() (*node, error) {
	n, err := p.primary()
	if err != nil || !p.isOp("^") {
		return n, err
	}
	p.i++
	m, err := p.pow()
	if err != nil {
		return nil, err
	}
	return &node{kind: nArith, op: "^", kids: []*node{n, m}}, nil
}

// primary parses a number, a string, a variable, a bare word, a call or a parenthesis.
func (p *parser) primary() (*node, error) {
	t := p.next()
	switch t.kind {
	case tokNum:
		f, _ := parseFloat(t.text)
		return &node{kind: nConst, c: numVal(f)}, nil
	case tokStr:
		return &node{kind: nConst, c: strVal(t.text)}, nil
	case tokLParen:
		n, err := p.or()
		if err == nil {
			err = p.expect(tokRParen, "')'")
		}
		return n, err
	case tokIdent:
		if p.peek().kind == tokLParen {
			return p.call(t)
		}
		return identifier(t.text)
	}
	p.i--
	return nil, p.unexpected()
}

// call parses abs(x), max(a, b, …) and min(a, b, …).
func (p *parser) call(name token) (*node, error) {
	p.i++ // (
	n := &node{kind: nCall, op: name.text}
	for {
		arg, err := p.or()
		if err != nil {
			return nil, err
		}
		n.kids = append(n.kids, arg)
		if p.peek().kind != tokComma {
			break
		}
		p.i++
	}
	if err := p.expect(tokRParen, "')'"); err != nil {
		return nil, err
	}
	switch {
	case name.text == "abs" && len(n.kids) == 1,
		(name.text == "max" || name.text == "min") && len(n.kids) >= 2:
		return n, nil
	case name.text == "abs" || name.text == "max" || name.text == "min":
		return nil, fmt.Errorf("%s: wrong number of arguments", name.text)
	}
	return nil, fmt.Errorf("unknown function %q at offset %d", name.text, name.pos)
}
