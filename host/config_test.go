package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kilnstorage/kiln/sdk"
	"github.com/kilnstorage/kiln/sdk/fake"
)

const sample = `
listen   = "0.0.0.0:8776"
data_dir = "/srv/kiln"
auth {
  mode = "noauth"
}
backend "fast" {
  driver            = "fake"
  availability_zone = "nova"
  max_over_subscription_ratio = "auto"
  config {
    state_dir = "/srv/kiln/fake"
    latency   = { create_volume = "5ms" }
    pool {
      name  = "a"
      total = "10GiB"
      thin  = true
      features {
        snapshots = true
      }
    }
    pool {
      name  = "b"
      total = 4096
    }
  }
}
`

func TestParseConfig(t *testing.T) {
	cfg, err := ParseConfig("kiln.hcl", []byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "0.0.0.0:8776" || cfg.Database != "sqlite:///srv/kiln/kiln.db" || cfg.Auth.Mode != "noauth" ||
		cfg.Scheduler.MaxAttempts != 3 || len(cfg.Backends) != 1 || cfg.Backends[0].AvailabilityZone != "nova" {
		t.Errorf("config = %+v", cfg)
	}
}

func TestDriverConfigJSON(t *testing.T) {
	cfg, err := ParseConfig("kiln.hcl", []byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	schema, err := sdk.SchemaOf[fake.Config]()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := driverConfigJSON(cfg.Backends[0].DriverConfig.Body, schema)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	_ = json.Unmarshal(raw, &got)
	want := map[string]any{
		"state_dir": "/srv/kiln/fake",
		"latency":   map[string]any{"create_volume": "5ms"},
		"pool": []any{
			map[string]any{"name": "a", "total": "10GiB", "thin": true, "features": map[string]any{"snapshots": true}},
			// Blocks of one list share a type, so HCL unifies the number to a string; the
			// driver's sdk.ByteSize reads both.
			map[string]any{"name": "b", "total": "4096"},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("JSON (-want +got):\n%s", diff)
	}
	if _, err := sdk.DecodeConfig[fake.Config](raw); err != nil {
		t.Errorf("the driver refuses what the host sends: %v", err)
	}
}

func TestConfigErrorsNameFileAndLine(t *testing.T) {
	schema, _ := sdk.SchemaOf[fake.Config]()
	tests := []struct {
		src, want string
	}{
		{"listen = 5\nbogus = 1\n", `kiln.hcl:2,1: Unsupported argument`},
		{"backend \"a\" {\n}\n", `kiln.hcl:1,13: Missing required argument; The argument "driver" is required`},
		{"backend \"a\" { driver = \"fake\" }\nbackend \"a\" { driver = \"fake\" }\n", `kiln.hcl:2,1: duplicate backend`},
		{"backend \"a\" {\n driver = \"fake\"\n reserved_percentage = 120\n}\n", `kiln.hcl:1,1: backend "a"; reserved_percentage 120`},
		{"backend \"a\" {\n driver = \"fake\"\n max_over_subscription_ratio = \"lots\"\n}\n", `want a number ≥ 1 or "auto"`},
		{"auth {\n mode = \"ldap\"\n}\n", `kiln.hcl:1,1: auth: unknown mode`},
		{"scheduler {\n filters = [\"NoSuchFilter\"]\n}\n", `kiln.hcl:1,1: scheduler: filters or weighers`},
		{"quota {\n volumes = -5\n}\n", `kiln.hcl:1,1: quota: volumes; -5`},
		{"backend \"a\" {\n driver = \"fake\"\n config {\n  state_dir = \"/x\"\n  stat_dir = \"/y\"\n }\n}\n", `kiln.hcl:5,3: Unsupported argument; An argument named "stat_dir" is not expected here`},
		{"backend \"a\" {\n driver = \"fake\"\n config {\n  latency = 5\n }\n}\n", `kiln.hcl:3,9: Missing required argument`},
		{"backend \"a\" {\n driver = \"fake\"\n config {\n  state_dir = \"/x\"\n  bugs = \"all\"\n }\n}\n", `kiln.hcl:5,10: Incorrect attribute value type`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			cfg, err := ParseConfig("kiln.hcl", []byte(tt.src))
			if err == nil && cfg.Backends[0].DriverConfig != nil {
				_, err = driverConfigJSON(cfg.Backends[0].DriverConfig.Body, schema)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestDescribeAndDriverPath(t *testing.T) {
	dir := t.TempDir()
	bin := dir + "/kiln-driver-fake"
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/kilnstorage/kiln/plugins/fake").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Setenv("PATH", dir+":"+os.Getenv("PATH"))
	path, err := driverPath("fake")
	if err != nil || path != bin {
		t.Fatalf("driverPath(fake) = %q, %v", path, err)
	}
	if _, err := driverPath("nosuch"); err == nil || !strings.Contains(err.Error(), "kiln-driver-nosuch") {
		t.Errorf("driverPath(nosuch) = %v", err)
	}
	info, err := describe(path)
	want, _ := sdk.SchemaOf[fake.Config]()
	if err != nil || info.Name != "fake" || !cmp.Equal(info.Schema, want) {
		t.Errorf("describe = %+v, %v", info, err)
	}
}
