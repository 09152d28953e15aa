package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func validConfig() Config {
	return Config{StateDir: "/var/lib/kiln/lvm", Pools: []PoolConfig{{Name: "ssd", VG: "kiln-ssd"}},
		Activation: "auto", Wipe: "zero", LVM: "lvm", VGCommands: 4, Archives: 20, Grace: 10 * time.Second}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string // a substring of the error; "" for none
	}{
		{"valid", func(*Config) {}, ""},
		{"thin pool", func(c *Config) {
			c.Pools = append(c.Pools, PoolConfig{Name: "ssd-thin", VG: "kiln-ssd", ThinPool: "pool0", MaxOversubscription: 10})
		}, ""},
		{"no pool", func(c *Config) { c.Pools = nil }, "at least one pool"},
		{"activation", func(c *Config) { c.Activation = "maybe" }, "activation"},
		{"wipe", func(c *Config) { c.Wipe = "shred" }, "wipe"},
		{"archives", func(c *Config) { c.Archives = -1 }, "archives"},
		{"vg_commands", func(c *Config) { c.VGCommands = -1 }, "vg_commands"},
		{"grace", func(c *Config) { c.Grace = 0 }, "kill_grace"},
		{"duplicate name", func(c *Config) { c.Pools = append(c.Pools, PoolConfig{Name: "ssd", VG: "other"}) }, "duplicate"},
		{"same place", func(c *Config) { c.Pools = append(c.Pools, PoolConfig{Name: "again", VG: "kiln-ssd"}) }, "same vg"},
		{"vg name", func(c *Config) { c.Pools[0].VG = "bad name" }, "vg"},
		{"thick oversubscribed", func(c *Config) { c.Pools[0].MaxOversubscription = 2 }, "only a thin pool"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.change(&c)
			err := c.Validate()
			if (err == nil) != (tt.want == "") || err != nil && !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestLVMConf pins the driver's lvm.conf.
func TestLVMConf(t *testing.T) {
	got := lvmConf{activation: false, backupDir: "/s/backup", archiveDir: "/s/archive", archives: 20,
		extra: "devices {\n\tglobal_filter = [ \"r|.*|\" ]\n}"}.String()
	want := `# Written by kiln-driver-lvm when it is configured; edits are lost.
# Set lvm_config in the backend's configuration instead.
global {
	activation = 0
	use_aio = 0
}
backup {
	backup = 1
	backup_dir = "/s/backup"
	archive = 1
	archive_dir = "/s/archive"
	retain_min = 20
	retain_days = 0
}
devices {
	global_filter = [ "r|.*|" ]
}
`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lvm.conf (-want +got):\n%s", diff)
	}
}

// TestActivation: auto follows whether device-mapper's control node opens.
func TestActivation(t *testing.T) {
	if on, why := activation("auto", filepath.Join(t.TempDir(), "control")); on || !strings.Contains(why, "no such file") {
		t.Errorf("auto without a control node: %v (%s), want off", on, why)
	}
	if on, _ := activation("off", controlNode); on {
		t.Error("activation off is on")
	}
	if on, _ := activation("on", "/nonexistent"); !on {
		t.Error("activation on is off")
	}
}
