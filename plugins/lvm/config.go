package main

import (
	"errors"
	"fmt"
	"regexp"
	"time"
)

// Config is the LVM driver's configuration. Apart from StateDir and one pool, its zero value is
// the recommended setting.
type Config struct {
	StateDir string       `kiln:"state_dir,required" doc:"Directory of the driver's own lvm.conf and of the LVM metadata backups and archives, in a subdirectory per backend; created if missing."`
	Pools    []PoolConfig `kiln:"pool" doc:"Pools: a volume group (thick) or a thin pool in one (thin). At least one."`
	// Activation is "auto", "on" or "off". Off writes `global { activation = 0 }` into the
	// driver's lvm.conf, which lets lvm2 edit metadata on a host without device-mapper, and turns
	// off what needs active devices: thin pools, snapshots, copies and wiping.
	Activation string `kiln:"activation" default:"auto" doc:"auto (on when /dev/mapper/control opens), on, or off (no device-mapper: thick volumes and extend only)."`
	// Wipe says how DeleteVolume clears a thick volume's data before lvremove. Cinder's default
	// is zero as well; thin volumes are never wiped (the thin pool hands out zeroed chunks).
	Wipe string `kiln:"wipe" default:"zero" doc:"Before removing a thick volume or snapshot: zero (BLKZEROOUT), discard (BLKDISCARD) or none. Needs activation; without it there is no device to wipe."`
	LVM  string `kiln:"lvm" default:"lvm" doc:"The lvm2 binary; a bare name is looked up in PATH."`
	// UseAIO keeps lvm2's default asynchronous label scan. Off, every command is 3–4× faster on
	// the measured kernels (docs/lvm-driver.md).
	UseAIO bool `kiln:"use_aio" doc:"Let lvm2 scan disks with Linux AIO (its default). Off by default: measured 3-4x slower per command."`
	// VGCommands bounds the metadata-changing commands in flight per VG (vglock.go).
	VGCommands int           `kiln:"vg_commands" default:"4" doc:"Metadata-changing lvm2 commands the driver runs at once per volume group; more wait in the driver. 1 serializes them; 0 lets every call race for lvm2's VG lock."`
	Archives   int           `kiln:"archives" default:"20" doc:"Metadata archives kept per VG in the state directory; 0 turns archiving off."`
	Grace      time.Duration `kiln:"kill_grace" default:"10s" doc:"After a call's context ends, how long an interrupted lvm2 command may take to leave its critical section before its process group is killed."`
	// LVMConfig is appended to the driver's lvm.conf. The host's /etc/lvm/lvm.conf is not read
	// (LVM_SYSTEM_DIR points elsewhere), so device filters belong here.
	LVMConfig string `kiln:"lvm_config" doc:"lvm.conf text appended to the driver's own, e.g. devices { global_filter = [ ... ] }. Do not repeat the keys the driver sets."`
}

// PoolConfig is one pool.
type PoolConfig struct {
	Name string `kiln:"name,required" doc:"Pool name reported to the scheduler."`
	VG   string `kiln:"vg,required" doc:"Volume group."`
	// ThinPool makes the pool thin: volumes are thin LVs in this thin pool of VG.
	ThinPool            string  `kiln:"thin_pool" doc:"Thin pool LV in vg; set for a thin pool, empty for thick volumes in the VG."`
	MaxOversubscription float64 `kiln:"max_oversubscription" doc:"Over-subscription hint for a thin pool; 0 leaves it to the operator."`
}

// thin tells whether the pool's volumes are thin LVs.
func (p PoolConfig) thin() bool { return p.ThinPool != "" }

var (
	poolName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)
	// lvmName is what lvm2 accepts as a VG or LV name (the reserved words aside).
	lvmName = regexp.MustCompile(`^[A-Za-z0-9+_.][A-Za-z0-9+_.-]{0,126}$`)
)

// Validate reports the first bad setting, naming it.
func (c Config) Validate() error {
	switch {
	case c.StateDir == "":
		return errors.New("state_dir: required")
	case len(c.Pools) == 0:
		return errors.New("pool: at least one pool is required")
	case c.Activation != "auto" && c.Activation != "on" && c.Activation != "off":
		return fmt.Errorf("activation: want auto, on or off, got %q", c.Activation)
	case c.Wipe != "zero" && c.Wipe != "discard" && c.Wipe != "none":
		return fmt.Errorf("wipe: want zero, discard or none, got %q", c.Wipe)
	case c.VGCommands < 0:
		return fmt.Errorf("vg_commands: must not be negative, got %d", c.VGCommands)
	case c.Archives < 0:
		return fmt.Errorf("archives: must not be negative, got %d", c.Archives)
	case c.Grace <= 0:
		return fmt.Errorf("kill_grace: must be positive, got %v", c.Grace)
	case c.LVM == "":
		return errors.New("lvm: required")
	}
	return validatePools(c.Pools)
}

func validatePools(pools []PoolConfig) error {
	names := make(map[string]bool)
	places := make(map[[2]string]string) // (vg, thin pool) → pool name
	for i, p := range pools {
		if err := p.validate(); err != nil {
			return fmt.Errorf("pool[%d]: %w", i, err)
		}
		if names[p.Name] {
			return fmt.Errorf("pool[%d].name: duplicate pool %q", i, p.Name)
		}
		names[p.Name] = true
		at := [2]string{p.VG, p.ThinPool}
		if other, dup := places[at]; dup {
			return fmt.Errorf("pool[%d] %q: same vg and thin_pool as pool %q", i, p.Name, other)
		}
		places[at] = p.Name
	}
	return nil
}

func (p PoolConfig) validate() error {
	switch {
	case !poolName.MatchString(p.Name):
		return fmt.Errorf("name: %q does not match %s", p.Name, poolName)
	case !lvmName.MatchString(p.VG):
		return fmt.Errorf("vg: %q is not a volume group name", p.VG)
	case p.ThinPool != "" && !lvmName.MatchString(p.ThinPool):
		return fmt.Errorf("thin_pool: %q is not a logical volume name", p.ThinPool)
	case p.MaxOversubscription < 0:
		return fmt.Errorf("max_oversubscription: must not be negative, got %g", p.MaxOversubscription)
	case p.MaxOversubscription > 0 && !p.thin():
		return errors.New("max_oversubscription: only a thin pool can be over-subscribed")
	}
	return nil
}
