package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// Config is the agent's configuration file, kiln.hcl.
type Config struct {
	// Listen is the API's address; /metrics is served on it too.
	Listen string `hcl:"listen,optional"`
	// DataDir holds the SQLite database, driver state and sockets.
	DataDir string `hcl:"data_dir,optional"`
	// Database is a DSN: "sqlite://PATH" (default: DATA_DIR/kiln.db) or "postgres://…".
	Database  string           `hcl:"database,optional"`
	LogLevel  string           `hcl:"log_level,optional"`
	Auth      *AuthConfig      `hcl:"auth,block"`
	Scheduler *SchedulerConfig `hcl:"scheduler,block"`
	Quota     *QuotaConfig     `hcl:"quota,block"`
	Backends  []BackendConfig  `hcl:"backend,block"`
}

// AuthConfig chooses how API requests are authenticated.
type AuthConfig struct {
	// Mode is "noauth" (Cinder's user:project tokens, every caller admin; development only) or
	// "token" (tokens from TokenFile).
	Mode      string    `hcl:"mode"`
	TokenFile string    `hcl:"token_file,optional"`
	DeclRange hcl.Range `hcl:",def_range"`
}

// SchedulerConfig tunes the scheduler.
type SchedulerConfig struct {
	Filters      []string           `hcl:"filters,optional"`
	Weighers     map[string]float64 `hcl:"weighers,optional"`
	MaxAttempts  int                `hcl:"max_attempts,optional"`
	ReportMaxAge string             `hcl:"report_max_age,optional"`
	PickAmongTop int                `hcl:"pick_among_top,optional"`
	DeclRange    hcl.Range          `hcl:",def_range"`
}

// QuotaConfig overrides Cinder's default quotas; -1 means unlimited.
type QuotaConfig struct {
	Volumes            *int      `hcl:"volumes,optional"`
	Snapshots          *int      `hcl:"snapshots,optional"`
	Gigabytes          *int      `hcl:"gigabytes,optional"`
	PerVolumeGigabytes *int      `hcl:"per_volume_gigabytes,optional"`
	DeclRange          hcl.Range `hcl:",def_range"`
}

// BackendConfig is one backend block: a driver, where it is, and its own configuration.
type BackendConfig struct {
	Name string `hcl:"name,label"`
	// Driver is a driver name (kiln-driver-NAME next to the kiln binary or on PATH) or a path.
	Driver             string `hcl:"driver"`
	SHA256             string `hcl:"sha256,optional"`
	AvailabilityZone   string `hcl:"availability_zone,optional"`
	ReservedPercentage int    `hcl:"reserved_percentage,optional"`
	// MaxOverSubscriptionRatio is a number ≥ 1 or "auto".
	MaxOverSubscriptionRatio string `hcl:"max_over_subscription_ratio,optional"`
	PollInterval             string `hcl:"poll_interval,optional"`
	// Driver is decoded against the driver's own schema; see driverConfig.
	DriverConfig *struct {
		Body hcl.Body `hcl:",remain"`
	} `hcl:"config,block"`
	// DeclRange is where the block is, for errors.
	DeclRange hcl.Range `hcl:",def_range"`
}

// LoadConfig parses an HCL file; errors name the file, line and field.
func LoadConfig(path string) (*Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseConfig(path, src)
}

// ParseConfig parses HCL source named filename (for messages), applies defaults and validates.
func ParseConfig(filename string, src []byte) (*Config, error) {
	p := hclparse.NewParser()
	f, diags := p.ParseHCL(src, filename)
	if diags.HasErrors() {
		return nil, diagError(diags)
	}
	var cfg Config
	if diags := gohcl.DecodeBody(f.Body, nil, &cfg); diags.HasErrors() {
		return nil, diagError(diags)
	}
	cfg.defaults()
	if diags := cfg.validate(); diags.HasErrors() {
		return nil, diagError(diags)
	}
	return &cfg, nil
}

func (c *Config) defaults() {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8776"
	}
	if c.DataDir == "" {
		c.DataDir = "/var/lib/kiln"
	}
	if c.Database == "" {
		c.Database = "sqlite://" + filepath.Join(c.DataDir, "kiln.db")
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.Auth == nil {
		c.Auth = &AuthConfig{Mode: "token", TokenFile: filepath.Join(c.DataDir, "tokens.json")}
	}
	if c.Scheduler == nil {
		c.Scheduler = &SchedulerConfig{}
	}
	if c.Scheduler.MaxAttempts == 0 {
		c.Scheduler.MaxAttempts = 3
	}
	if c.Quota == nil {
		c.Quota = &QuotaConfig{}
	}
}

// validate checks what HCL's types cannot.
func (c *Config) validate() hcl.Diagnostics {
	var diags hcl.Diagnostics
	bad := func(r hcl.Range, summary, detail string) {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: r.Ptr()})
	}
	switch c.Auth.Mode {
	case "noauth":
	case "token":
		if c.Auth.TokenFile == "" {
			bad(c.Auth.DeclRange, "auth: token_file missing", "auth mode \"token\" needs token_file.")
		}
	default:
		bad(c.Auth.DeclRange, "auth: unknown mode", fmt.Sprintf("mode %q: want \"noauth\" or \"token\".", c.Auth.Mode))
	}
	if c.Scheduler.MaxAttempts < 1 {
		bad(c.Scheduler.DeclRange, "scheduler: max_attempts", "max_attempts must be at least 1.")
	}
	if _, err := optionalDuration(c.Scheduler.ReportMaxAge); err != nil {
		bad(c.Scheduler.DeclRange, "scheduler: report_max_age", err.Error())
	}
	if _, err := c.Scheduler.scheduler(); err != nil {
		bad(c.Scheduler.DeclRange, "scheduler: filters or weighers", err.Error())
	}
	for res, v := range map[string]*int{"volumes": c.Quota.Volumes, "snapshots": c.Quota.Snapshots,
		"gigabytes": c.Quota.Gigabytes, "per_volume_gigabytes": c.Quota.PerVolumeGigabytes} {
		if v != nil && *v < -1 {
			bad(c.Quota.DeclRange, "quota: "+res, fmt.Sprintf("%d: a limit is -1 (unlimited) or more.", *v))
		}
	}
	seen := map[string]bool{}
	for _, b := range c.Backends {
		if seen[b.Name] {
			bad(b.DeclRange, "duplicate backend", fmt.Sprintf("backend %q is defined twice.", b.Name))
		}
		seen[b.Name] = true
		for _, msg := range b.problems() {
			bad(b.DeclRange, "backend "+strconv.Quote(b.Name), msg)
		}
	}
	return diags
}

// problems lists what is wrong with a backend block.
func (b BackendConfig) problems() []string {
	var out []string
	if b.Driver == "" {
		out = append(out, "driver must name a driver or a path.")
	}
	if b.ReservedPercentage < 0 || b.ReservedPercentage > 100 {
		out = append(out, fmt.Sprintf("reserved_percentage %d is not between 0 and 100.", b.ReservedPercentage))
	}
	if r := b.MaxOverSubscriptionRatio; r != "" && r != "auto" {
		if v, err := strconv.ParseFloat(r, 64); err != nil || v < 1 {
			out = append(out, fmt.Sprintf("max_over_subscription_ratio %q: want a number ≥ 1 or \"auto\".", r))
		}
	}
	if _, err := optionalDuration(b.PollInterval); err != nil {
		out = append(out, "poll_interval: "+err.Error())
	}
	return out
}

func optionalDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration such as \"30s\"", s)
	}
	return d, nil
}

// diagError renders diagnostics as "file:line,col: summary; detail" lines.
func diagError(diags hcl.Diagnostics) error {
	var msg string
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		where := "config"
		if d.Subject != nil && d.Subject.Filename != "" {
			where = fmt.Sprintf("%s:%d,%d", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
		}
		if msg != "" {
			msg += "\n"
		}
		msg += fmt.Sprintf("%s: %s; %s", where, d.Summary, d.Detail)
	}
	return errors.New(msg)
}
