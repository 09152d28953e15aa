package fake

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kilnstorage/kiln/sdk"
)

func TestSchema(t *testing.T) {
	schema, err := sdk.SchemaOf[Config]()
	if err != nil {
		t.Fatal(err)
	}
	types := make(map[string]string)
	for _, f := range schema {
		types[f.Name] = f.Type
	}
	want := map[string]string{"state_dir": "string", "pool": "list(block)", "pool.total": "bytes",
		"pool.features": "block", "pool.features.protocols": "list(string)",
		"latency": "map(string)", "failure": "list(block)", "bugs": "list(string)"}
	for name, typ := range want {
		if types[name] != typ {
			t.Errorf("schema field %s: type %q, want %q", name, types[name], typ)
		}
	}
}

func TestDecodeConfig(t *testing.T) {
	tests := []struct {
		name string
		json string
		want Config
	}{{
		name: "minimal",
		json: `{"state_dir": "/s"}`,
		want: Config{StateDir: "/s"},
	}, {
		name: "pool defaults, features absent",
		json: `{"state_dir": "/s", "pool": [{"name": "p"}]}`,
		want: Config{StateDir: "/s", Pools: []Pool{{Name: "p", Total: 100 * gib, Granularity: mib, State: "up"}}},
	}, {
		name: "empty features block is declared",
		json: `{"state_dir": "/s", "pool": [{"name": "p", "total": "1GiB", "granularity": 0, "features": {}}]}`,
		want: Config{StateDir: "/s", Pools: []Pool{{Name: "p", Total: gib, State: "up",
			Features: &Features{}}}},
	}, {
		name: "failure defaults",
		json: `{"state_dir": "/s", "failure": [{"op": "probe"}], "latency": {"probe": "1s"}}`,
		want: Config{StateDir: "/s", Latency: map[string]string{"probe": "1s"},
			Failures: []Failure{{Op: "probe", Code: "Internal", Mode: "always"}}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sdk.DecodeConfig[Config]([]byte(tt.json))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("decoded config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string // substring of the error; empty for none
	}{
		{"ok", Config{StateDir: "/s", Pools: []Pool{{Name: "a", State: "down"}},
			Latency:  map[string]string{"connect": "0s"},
			Failures: []Failure{{Op: "probe", Code: "Unavailable", Mode: "every", Every: 3}},
			Bugs:     Bugs}, ""},
		{"no state dir", Config{}, "state_dir: required"},
		{"duplicate pool", Config{StateDir: "/s", Pools: []Pool{{Name: "a"}, {Name: "a"}}},
			`pool[1].name: duplicate pool "a"`},
		{"pool without name", Config{StateDir: "/s", Pools: []Pool{{}}}, "pool[0]"},
		{"bad state", Config{StateDir: "/s", Pools: []Pool{{Name: "a", State: "sideways"}}},
			`pool[0] "a": state: unknown state "sideways"`},
		{"min above max", Config{StateDir: "/s", Pools: []Pool{{Name: "a", MinVolume: 2, MaxVolume: 1}}},
			`pool[0] "a": min_volume 2 exceeds max_volume 1`},
		{"negative oversubscription", Config{StateDir: "/s", Pools: []Pool{{Name: "a", MaxOversubscription: -1}}},
			"max_oversubscription"},
		{"protocol", Config{StateDir: "/s", Pools: []Pool{{Name: "a", Features: &Features{Protocols: []string{"iscsi"}}}}},
			`features.protocols[0]`},
		{"latency op", Config{StateDir: "/s", Latency: map[string]string{"crate_volume": "1s"}},
			`latency "crate_volume": unknown operation`},
		{"latency duration", Config{StateDir: "/s", Latency: map[string]string{"probe": "soon"}},
			`latency "probe": want a non-negative duration`},
		{"failure op", Config{StateDir: "/s", Failures: []Failure{{Op: "explode"}}},
			`failure[0]: op: unknown operation "explode"`},
		{"failure code", Config{StateDir: "/s", Failures: []Failure{{Op: "probe", Code: "Nospace"}}},
			`failure[0]: code: unknown code "Nospace"`},
		{"failure code OK", Config{StateDir: "/s", Failures: []Failure{{Op: "probe", Code: "OK"}}},
			`failure[0]: code: unknown code "OK"`},
		{"failure mode", Config{StateDir: "/s", Failures: []Failure{{Op: "probe", Mode: "sometimes"}}},
			`failure[0]: mode: unknown mode "sometimes"`},
		{"every without mode every", Config{StateDir: "/s", Failures: []Failure{{Op: "probe", Mode: "once", Every: 2}}},
			`failure[0]: every: only for mode every`},
		{"every zero", Config{StateDir: "/s", Failures: []Failure{{Op: "probe", Mode: "every"}}},
			`failure[0]: every: mode every needs every >= 1`},
		{"bug", Config{StateDir: "/s", Bugs: []string{"ignores_ctx", "typo"}},
			`bugs[1]: unknown bug "typo"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestDecodeConfigValidates(t *testing.T) {
	_, err := sdk.DecodeConfig[Config]([]byte(`{"state_dir": "/s", "bugs": ["typo"]}`))
	if sdk.CodeOf(err) != sdk.InvalidArgument || !strings.Contains(err.Error(), `bugs[0]: unknown bug "typo"`) {
		t.Fatalf("DecodeConfig = %v, want InvalidArgument naming bugs[0]", err)
	}
}
