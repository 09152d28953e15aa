package scheduler

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// evaluate compiles and evaluates src once (no protocol variants).
func evaluate(src string, p *Pool, req *Request) (val, error) {
	prog, err := compile(src)
	if err != nil {
		return val{}, err
	}
	return eval(prog.root, &env{p: p, req: req, proto: "iSCSI"})
}

// TestEvaluator pins the filter/goodness function grammar (cinder.md §2.6, evaluator.py): its
// precedence, Python's semantics of each operator, and the conversion of variables.
func TestEvaluator(t *testing.T) {
	p := &Pool{Backend: "lvm", Name: "thin", TotalBytes: 100 * GiB, FreeBytes: 99*GiB + 3*GiB/4,
		AllocatedBytes: 3 * GiB, Thin: true, Features: FeatureMultiattach, Protocols: []string{"iscsi"},
		Attributes: map[string]Attribute{"latency": FloatAttr(2.5, "ms"), "tier": StringAttr("gold")}}
	req := &Request{Size: 10 * GiB, Zone: "az1", ExtraSpecs: map[string]string{
		"n": "5", "f": "2.5", "s": "'quoted'", "word": "fast"}}
	num, yes, no, str := numVal, boolVal(true), boolVal(false), strVal
	tests := []struct {
		src  string
		want val
	}{
		// Precedence, loosest first: or, and, ?:, comparisons, not, + -, * /, unary, ^, calls.
		{"1 + 2 * 3", num(7)},
		{"stats.total_capacity_gb>=10&&!0", yes},
		{"(1 + 2) * 3", num(9)},
		{"10 - 2 - 3", num(5)},
		{"12 / 2 / 3", num(2)},
		{"-2 ^ 2", num(-4)},
		{"2 ^ 3 ^ 2", num(512)},
		{"--3", num(3)},
		{"+3", num(3)},
		{"not 1 == 0", yes}, // (not 1) == 0: False == 0
		{"not 0 + 1", no},   // not (0 + 1)
		{"1 < 2 < 3", yes},
		{"1 < 3 < 2", no},
		{"3 > 2 >= 2 == 2", yes},
		{"1 <> 2", yes},
		{"1 ? 2 : 3", num(2)},
		{"0 ? 2 : 3", num(3)},
		{"1 < 0 ? 2 : 3", num(3)},
		{"0 ? 1 : 0 ? 2 : 3", num(3)}, // right-associative
		{"0 and 1 ? 2 : 3", num(0)},   // and binds looser than ?:
		{"1 and 2", num(2)},
		{"0 and 2", num(0)},
		{"1 and 2 and 0", num(0)}, // Cinder reads only "1 and 2": 2
		{"0 or 0 or 3", num(3)},   // Cinder reads only "0 or 0": 0
		{"1 AND 1 && 1", num(1)},
		{"0 OR 0 || 4", num(4)},
		{"NOT 1", no},
		{"!0", yes},
		{"1 or 1 and 0", num(1)}, // and binds tighter than or
		// Arithmetic is Python's: / is float division; + joins strings.
		{"10 / 4", num(2.5)},
		{"7 * 0.5", num(3.5)},
		{"'ab' + 'cd'", str("abcd")},
		{"abs(-3)", num(3)},
		{"max(1, 5, 3)", num(5)},
		{"min(4, 2)", num(2)},
		{"max('a', 'b')", str("b")},
		{"max(1 > 0, 0)", yes}, // the chosen operand itself: True
		// Comparisons: numbers with numbers, strings with strings; a number is never equal to
		// a string.
		{"'abc' == 'abc'", yes},
		{"'abc' < 'abd'", yes},
		{"'a' == 1", no},
		{"'a' != 1", yes},
		{"1 == 1.0", yes},
		// A bare word is a string constant, converted like any operand.
		{"gold == 'gold'", yes},
		{"inf > 1", yes},
		// Variables.
		{"volume.size", num(10)},
		{"volume.availability_zone", str("az1")},
		{"extra.n + 1", num(6)},                // a numeric string becomes a number
		{"extra.f * 2", num(5)},                //
		{"extra.s", str("quoted")},             // quotes are removed
		{"extra.word", str("fast")},            //
		{"stats.free_capacity_gb", num(99.75)}, // Cinder: int(99.75) = 99
		{"stats.total_capacity_gb", num(100)},
		{"stats.allocated_capacity_gb", num(3)},
		{"stats.host", str("lvm#thin")},
		{"stats.backend_id", str("lvm")},
		{"stats.volume_backend_name", str("lvm")},
		{"stats.thin_provisioning_support", num(1)}, // int(True)
		{"capabilities.multiattach + 1", num(2)},
		{"capabilities.latency", num(2.5)}, // the number in its own unit
		{"capabilities.tier", str("gold")},
		{"stats.storage_protocol", str("iSCSI")}, // the variant in effect
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			got, err := evaluate(tt.src, p, req)
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(val{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestEvaluatorErrors pins what fails: a parse error, an unknown variable or function, a
// missing value, a type error, a division by zero. DriverFilter then fails the pool and
// GoodnessWeigher rates it 0.
func TestEvaluatorErrors(t *testing.T) {
	p := &Pool{Backend: "lvm", Infinite: true}
	req := &Request{ExtraSpecs: map[string]string{}}
	for _, src := range []string{
		"", "1 +", "(1", "1)", "1 2", "foo(1)", "abs(1, 2)", "max(1)", "2 ^ -1", "'open",
		"1 = 1", "a.b.c", "qos.read_iops", "stats.nope", "volume.display_name", "nope.x", "1 ? 2",
		"extra.missing", "capabilities.missing", "stats.storage_protocol",
		"'a' < 1", "'a' - 1", "-'a'", "abs('a')", "max(1, 'a')", "1 / 0", "0 ^ -1", "(-8) ^ 0.5",
		"stats.free_capacity_gb + 1", // 'infinite' is a string
		"1 or extra.missing",         // every operand of or is evaluated, as in Cinder
		"1 > 0 and 2 $ 3",
	} {
		t.Run(src, func(t *testing.T) {
			if got, err := evaluate(src, p, req); err == nil {
				t.Errorf("no error; got %+v", got)
			}
		})
	}
	// A comparison chain stops at the first false comparison, and a ternary evaluates only
	// its branch: the missing value is never read.
	for _, src := range []string{"1 > 2 > extra.missing", "1 ? 2 : extra.missing"} {
		if _, err := evaluate(src, p, req); err != nil {
			t.Errorf("%s: %v", src, err)
		}
	}
	if err := CheckFunction("stats.free_capacity_gb > 10 and capabilities.x == 'y'"); err != nil {
		t.Errorf("CheckFunction: %v", err)
	}
	if err := CheckFunction("1 +"); err == nil {
		t.Error("CheckFunction(1 +): no error")
	}
}

// TestGoodnessRating pins GoodnessWeigher's rating (§2.6): True is 100, False 0, a number in
// [0, 100] itself, anything else 0; the best over the protocol variants.
func TestGoodnessRating(t *testing.T) {
	p := &Pool{Protocols: []string{"FC"}, TotalBytes: 10 * GiB}
	for src, want := range map[string]float64{
		"1 == 1": 100, "1 == 0": 0, "55.5": 55.5, "0": 0, "100": 100, "101": 0, "-1": 0,
		"'text'": 0, "1 / 0": 0, "stats.storage_protocol == 'fc' ? 80 : 20": 80,
		"stats.storage_protocol == 'fibre_channel' ? 70 : 10": 70, "stats.total_capacity_gb * 5": 50,
	} {
		prog, err := compile(src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		got, _ := prog.goodness(&env{p: p, req: &Request{}})
		if got != want {
			t.Errorf("goodness(%s) = %v, want %v", src, got, want)
		}
	}
	if r := rate(numVal(math.NaN())); r != 0 {
		t.Errorf("rate(NaN) = %v", r)
	}
}

// TestFunctionBound: a function or query past MaxFunction is refused, so that neither the
// parser's recursion nor the per-pool evaluation can be made arbitrarily deep or slow.
func TestFunctionBound(t *testing.T) {
	n := MaxFunction/2 - 1
	deep := strings.Repeat("(", n) + "1" + strings.Repeat(")", n)
	if err := CheckFunction(deep); err != nil {
		t.Errorf("%d nested parentheses: %v", n, err)
	}
	if err := CheckFunction(deep + " + 1"); err == nil {
		t.Error("a function past MaxFunction: no error")
	}
	q := `["and"` + strings.Repeat(`, true`, MaxFunction/6) + `]`
	_, err := Pick(Config{Filters: []string{filterJSON}}, []Pool{{}}, Request{Hints: Hints{Query: q}})
	if !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("a query of %d bytes: %v, want ErrInvalidRequest", len(q), err)
	}
}

// FuzzFunction: no input makes the parser or the evaluator panic.
func FuzzFunction(f *testing.F) {
	for _, s := range []string{"1 + 2 * 3", "stats.free_capacity_gb > volume.size ? 100 : 0",
		"max(1, 'a')", "not (extra.x or capabilities.y) and stats.storage_protocol == 'iSCSI'",
		"-2 ^ 2 ^ -", "'open", "a.b.c", "1 < 2 < 3 <> 4", "abs(", "((((1))))"} {
		f.Add(s)
	}
	p := &Pool{Protocols: []string{"iscsi", "FC"}, TotalBytes: GiB, Attributes: map[string]Attribute{"y": IntAttr(1, "")}}
	req := &Request{Size: GiB, ExtraSpecs: map[string]string{"x": "5"}}
	f.Fuzz(func(t *testing.T, src string) {
		prog, err := compile(src)
		if err != nil {
			return
		}
		prog.passes(&env{p: p, req: req})
		prog.goodness(&env{p: p, req: req})
	})
}
