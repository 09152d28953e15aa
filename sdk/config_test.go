package sdk

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type testPool struct {
	Name string   `kiln:"name,required" doc:"Pool name."`
	Size ByteSize `kiln:"size" default:"1GiB"`
}

type testConfig struct {
	Dir      string            `kiln:"dir,required" doc:"Where volumes live."`
	Password string            `kiln:"password,secret"`
	Timeout  time.Duration     `kiln:"timeout" default:"30s"`
	Ratio    float64           `kiln:"ratio" default:"1.5"`
	Verbose  bool              `kiln:"verbose"`
	Tags     []string          `kiln:"tags"`
	Labels   map[string]string `kiln:"labels"`
	Pools    []testPool        `kiln:"pool"`
	Extra    *testPool         `kiln:"extra"`
	MaxCount int               `doc:"No kiln tag: keyed max_count."`
	Skipped  string            `kiln:"-"`
}

func (c *testConfig) Validate() error {
	if strings.Contains(c.Dir, "..") {
		return errors.New("dir must not contain ..")
	}
	return nil
}

func TestDecodeConfig(t *testing.T) {
	got, err := DecodeConfig[testConfig]([]byte(`{"dir": "/srv", "password": "hunter2",
		"tags": ["a"], "labels": {"k": "v"}, "pool": [{"name": "p", "size": "2GiB"}, {"name": "q"}],
		"max_count": 3, "extra": {"name": "e"}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := testConfig{Dir: "/srv", Password: "hunter2", Timeout: 30 * time.Second, Ratio: 1.5,
		Tags: []string{"a"}, Labels: map[string]string{"k": "v"}, MaxCount: 3,
		Pools: []testPool{{Name: "p", Size: 2 << 30}, {Name: "q", Size: 1 << 30}},
		Extra: &testPool{Name: "e", Size: 1 << 30}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decode (-want +got):\n%s", diff)
	}
}

func TestDecodeConfig_errorsNameThePath(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{}`, "config.dir: required"},
		{`{"dir": "/x", "dri": 1}`, "config.dri: unknown field"},
		{`{"dir": 5}`, "config.dir: want string, got a number"},
		{`{"dir": "/x", "timeout": "soon"}`, "config.timeout: want a duration"},
		{`{"dir": "/x", "pool": [{"name": "a"}, {"name": "b", "sise": "1GiB"}]}`, "config.pool[1].sise: unknown field"},
		{`{"dir": "/x", "pool": [{"name": "a", "size": "lots"}]}`, "config.pool[0].size: want a size"},
		{`{"dir": "/x", "pool": {"name": "a"}}`, "config.pool: want a list, got a block"},
		{`[]`, "config: want a block (JSON object), got a list"},
		{`{"dir": "/a/../b"}`, "config: dir must not contain .."},
		{`{"dir": "/x", "extra": {}}`, "config.extra.name: required"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := DecodeConfig[testConfig]([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("DecodeConfig(%s) = %v, want an error containing %q", tt.in, err, tt.want)
			}
			if CodeOf(err) != InvalidArgument {
				t.Errorf("code %v, want InvalidArgument", CodeOf(err))
			}
		})
	}
}

func TestSchemaOf(t *testing.T) {
	got, err := SchemaOf[testConfig]()
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, f := range got {
		lines = append(lines, fmt.Sprintf("%s %s req=%v def=%q secret=%v", f.Name, f.Type, f.Required, f.Default, f.Secret))
	}
	want := []string{
		`dir string req=true def="" secret=false`,
		`password string req=false def="" secret=true`,
		`timeout duration req=false def="30s" secret=false`,
		`ratio float req=false def="1.5" secret=false`,
		`verbose bool req=false def="" secret=false`,
		`tags list(string) req=false def="" secret=false`,
		`labels map(string) req=false def="" secret=false`,
		`pool list(block) req=false def="" secret=false`,
		`pool.name string req=true def="" secret=false`,
		`pool.size bytes req=false def="1GiB" secret=false`,
		`extra block req=false def="" secret=false`,
		`extra.name string req=true def="" secret=false`,
		`extra.size bytes req=false def="1GiB" secret=false`,
		`max_count int req=false def="" secret=false`,
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("schema (-want +got):\n%s", diff)
	}
}

func TestRedact(t *testing.T) {
	got := Redact(testConfig{Dir: "/srv", Password: "hunter2", Timeout: time.Second})
	m := got.(map[string]any)
	if m["password"] != "<redacted>" || m["dir"] != "/srv" || m["timeout"] != "1s" || m["extra"] != nil {
		t.Errorf("Redact = %v", m)
	}
}

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		in   string
		want ByteSize
		bad  bool
	}{
		{"4096", 4096, false}, {"4KiB", 4096, false}, {"10GiB", 10 << 30, false},
		{"1TB", 1e12, false}, {"3 MiB", 3 << 20, false}, {"-1", 0, true}, {"1.5GiB", 0, true},
		{"9000000PiB", 0, true}, {"lots", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseByteSize(tt.in)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("ParseByteSize(%q) = %d, %v", tt.in, got, err)
		}
	}
}

type badOption struct {
	Dir string `kiln:"dir,requried"`
}

type dupKey struct {
	A string `kiln:"x"`
	B string `kiln:"x"`
}

type requiredDefault struct {
	A string `kiln:"a,required" default:"x"`
}

type badDefault struct {
	T time.Duration `kiln:"t" default:"soon"`
}

type cyclic struct {
	Next *cyclic `kiln:"next"`
}

func TestSchemaOf_rejectsBadTags(t *testing.T) {
	for name, check := range map[string]func() ([]ConfigField, error){
		"unknown kiln tag option": SchemaOf[badOption],
		"key used by two fields":  SchemaOf[dupKey],
		"cannot have a default":   SchemaOf[requiredDefault],
		"bad default":             SchemaOf[badDefault],
		"contains itself":         SchemaOf[cyclic],
	} {
		if _, err := check(); err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(name, "bad ")) {
			t.Errorf("%s: SchemaOf = %v", name, err)
		}
	}
}

type secretItem struct {
	Name     string `kiln:"name"`
	Password string `kiln:"password,secret"`
}

type secretList struct {
	Items []*secretItem `kiln:"item"`
}

func TestRedact_secretsInListsOfBlocks(t *testing.T) {
	cfg, err := DecodeConfig[secretList]([]byte(`{"item": [{"name": "a", "password": "hunter2"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(Redact(cfg))
	if strings.Contains(got, "hunter2") || !strings.Contains(got, "<redacted>") {
		t.Errorf("Redact = %s", got)
	}
	schema, _ := SchemaOf[secretList]()
	if len(schema) != 3 || !schema[2].Secret || schema[2].Name != "item.password" {
		t.Errorf("schema = %+v", schema)
	}
}

func TestDecodeConfig_nullIsNotAValue(t *testing.T) {
	for _, in := range []string{`{"dir": "/x", "tags": ["a", null]}`, `{"dir": "/x", "labels": {"k": null}}`} {
		if _, err := DecodeConfig[testConfig]([]byte(in)); err == nil || !strings.Contains(err.Error(), "null is not a value") {
			t.Errorf("DecodeConfig(%s) = %v", in, err)
		}
	}
}
