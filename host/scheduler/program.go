package scheduler

// program is a compiled filter or goodness function.
type program struct {
	root *node
	// protocol is set when the function reads storage_protocol: it then runs once per
	// protocol variant of the pool (cinder.md §2.5, DriverFilter).
	protocol bool
}

func compile(src string) (*program, error) {
	root, err := parse(src)
	if err != nil {
		return nil, err
	}
	return &program{root: root, protocol: readsProtocol(root)}, nil
}

func readsProtocol(n *node) bool {
	if n.kind == nVar && n.v.scope == scopeCaps && n.v.cap.key == capProtocol {
		return true
	}
	for _, k := range n.kids {
		if readsProtocol(k) {
			return true
		}
	}
	return false
}

// each evaluates the program for every protocol variant of the pool (once when it does not read
// storage_protocol) until yield returns false. A pool without protocols yields the error of
// the missing value.
func (pr *program) each(e *env, yield func(val, error) bool) {
	if !pr.protocol {
		yield(eval(pr.root, e))
		return
	}
	var one [1]string
	for _, proto := range e.p.Protocols {
		for _, name := range variants(proto, &one) {
			e.proto = name
			if !yield(eval(pr.root, e)) {
				return
			}
		}
	}
	if len(e.p.Protocols) == 0 {
		yield(val{}, errNoProtocol)
	}
}

// passes is DriverFilter's test: the function is truthy for some variant. err is the first
// error when none passed.
func (pr *program) passes(e *env) (ok bool, err error) {
	pr.each(e, func(v val, verr error) bool {
		if verr == nil && v.truthy() {
			ok = true
			return false
		}
		if err == nil {
			err = verr
		}
		return true
	})
	if ok {
		err = nil
	}
	return ok, err
}

// goodness is GoodnessWeigher's rating, the best over the variants: true is 100, a number in
// [0, 100] is itself, anything else (out of range, a string, an error) is 0.
func (pr *program) goodness(e *env) (rating float64, err error) {
	pr.each(e, func(v val, verr error) bool {
		if verr != nil {
			err = verr
			return true
		}
		rating = max(rating, rate(v))
		return true
	})
	return rating, err
}

func rate(v val) float64 {
	switch {
	case v.kind == vBool:
		return v.num * 100
	case v.kind == vNum && v.num >= 0 && v.num <= 100:
		return v.num
	}
	return 0
}

// programs compiles each distinct function once per decision: pools of one backend share
// theirs, so the last one is remembered before the map is consulted.
type programs struct {
	last    string
	lastP   *program
	lastErr error
	byText  map[string]compiled
}

type compiled struct {
	p   *program
	err error
}

func (ps *programs) get(src string) (*program, error) {
	if ps.byText != nil && src == ps.last {
		return ps.lastP, ps.lastErr
	}
	c, ok := ps.byText[src]
	if !ok {
		c.p, c.err = compile(src)
		if ps.byText == nil {
			ps.byText = make(map[string]compiled)
		}
		ps.byText[src] = c
	}
	ps.last, ps.lastP, ps.lastErr = src, c.p, c.err
	return c.p, c.err
}
