package scheduler

import (
	"encoding/json"
	"fmt"
	"strings"
)

// jsonFilter is JsonFilter: the query hint, a JSON list [command, arg, …], must be truthy for
// the pool. Commands: = < > <= >= (the first argument against every other), in (the first
// among the others), not (each argument negated, a list), and, or. An argument is a literal,
// a nested query, or "$name" read from the pool ("$free_capacity_gb",
// "$capabilities.<key>", "$service.availability_zone"); a missing value or an empty string is
// dropped. A list result passes when any element is truthy.
type jsonFilter struct{ q *jquery }

// jquery is one parsed command.
type jquery struct {
	cmd  string
	args []jarg
}

// jarg is a literal, a lookup or a nested command.
type jarg struct {
	lit    jval
	lookup string // the name after '$', or ""
	sub    *jquery
}

func newJSONFilter(req *Request) (filter, error) {
	if strings.TrimSpace(req.Hints.Query) == "" {
		return nil, nil
	}
	if len(req.Hints.Query) > MaxFunction {
		return nil, fmt.Errorf("%w: query hint longer than %d bytes", ErrInvalidRequest, MaxFunction)
	}
	var raw any
	if err := json.Unmarshal([]byte(req.Hints.Query), &raw); err != nil {
		return nil, fmt.Errorf("%w: query hint: %v", ErrInvalidRequest, err)
	}
	q, err := parseQuery(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: query hint: %v", ErrInvalidRequest, err)
	}
	if q == nil {
		return nil, nil
	}
	return &jsonFilter{q: q}, nil
}

// parseQuery parses [command, arg, …]; an empty list is nil (it passes every pool).
func parseQuery(raw any) (*jquery, error) {
	l, ok := raw.([]any)
	if !ok {
		return nil, fmt.Errorf("want a list, got %T", raw)
	}
	if len(l) == 0 {
		return nil, nil
	}
	cmd, _ := l[0].(string)
	switch cmd {
	case "=", "<", ">", "<=", ">=", "in", "not", "or", "and":
	default:
		return nil, fmt.Errorf("unknown command %v", l[0])
	}
	q := &jquery{cmd: cmd}
	for _, a := range l[1:] {
		arg, err := parseArg(a)
		if err != nil {
			return nil, err
		}
		q.args = append(q.args, arg)
	}
	return q, nil
}

func parseArg(a any) (jarg, error) {
	switch a := a.(type) {
	case []any:
		sub, err := parseQuery(a)
		if sub == nil && err == nil {
			return jarg{lit: jval{kind: jBool, b: true}}, nil // Cinder: an empty query is True
		}
		return jarg{sub: sub}, err
	case string:
		if name, ok := strings.CutPrefix(a, "$"); ok {
			return jarg{lookup: name}, nil
		}
		if a == "" {
			return jarg{}, nil // dropped, as None
		}
		return jarg{lit: jval{kind: jStr, s: a}}, nil
	case float64:
		return jarg{lit: jval{kind: jNum, n: a}}, nil
	case bool:
		return jarg{lit: jval{kind: jBool, b: a}}, nil
	case nil:
		return jarg{}, nil
	}
	return jarg{}, fmt.Errorf("unsupported argument %T", a)
}

func (f *jsonFilter) pass(p *Pool) bool { return f.q.eval(p).truthy() }

func (f *jsonFilter) detail() string { return "" }
