package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/kilnstorage/kiln/sdk"
)

// Config is the file driver's configuration: the directories it keeps volumes in.
type Config struct {
	Pools []PoolConfig `kiln:"pool,required" doc:"One block per pool; each pool is a directory the driver owns."`
}

// PoolConfig configures one pool. Its zero value apart from Name and Path offers thin and thick
// volumes in 1 MiB steps, copies by reflink where the filesystem can, and sets no bounds.
type PoolConfig struct {
	Name string `kiln:"name,required" doc:"Pool name, as the scheduler and volume types see it."`
	// Path must exist: the driver never creates it, so that an unmounted mount point is not
	// silently filled instead of the filesystem meant to be mounted there.
	Path  string `kiln:"path,required" doc:"Absolute path of an existing directory that only this backend uses."`
	Thin  bool   `kiln:"thin" default:"true" doc:"Offer thin volumes (sparse files)."`
	Thick bool   `kiln:"thick" default:"true" doc:"Offer thick volumes (fallocated files) when the filesystem supports fallocate."`
	// Reflink false makes every copy a real copy, so that no volume shares extents with
	// another and a thick copy owns all of its blocks.
	Reflink      bool `kiln:"reflink" default:"true" doc:"Clone, snapshot and restore by reflink when the filesystem supports it; false always copies the data."`
	RequireMount bool `kiln:"require_mount" doc:"Report the pool down unless path is a mount point."`
	// Capacity caps what the pool's files may take of a filesystem shared with other uses.
	Capacity sdk.ByteSize `kiln:"capacity" doc:"Most bytes the pool's files may take; 0 for all of the filesystem."`
	// Granularity is what sizes are rounded up to; 0 means one byte.
	Granularity         sdk.ByteSize `kiln:"granularity" default:"1MiB" doc:"Volume sizes are rounded up to a multiple of this."`
	MinVolume           sdk.ByteSize `kiln:"min_volume" doc:"Smallest volume; 0 for no bound."`
	MaxVolume           sdk.ByteSize `kiln:"max_volume" doc:"Largest volume; 0 for no bound."`
	MaxOversubscription float64      `kiln:"max_oversubscription" doc:"Over-subscription hint for thin volumes; 0 leaves it to the operator's configuration."`
}

// Validate reports the first bad pool, naming it.
func (c Config) Validate() error {
	if len(c.Pools) == 0 {
		return errors.New("pool: at least one pool is required")
	}
	names := make(map[string]bool, len(c.Pools))
	for i, p := range c.Pools {
		if err := p.validate(); err != nil {
			return fmt.Errorf("pool[%d] %q: %w", i, p.Name, err)
		}
		if names[p.Name] {
			return fmt.Errorf("pool[%d].name: duplicate pool %q", i, p.Name)
		}
		names[p.Name] = true
		for j, q := range c.Pools[:i] {
			if nested(p.Path, q.Path) {
				return fmt.Errorf("pool[%d].path: %s overlaps pool[%d] %q at %s", i, p.Path, j, q.Name, q.Path)
			}
		}
	}
	return nil
}

func (p PoolConfig) validate() error {
	switch {
	case p.Name == "" || strings.TrimSpace(p.Name) != p.Name:
		return errors.New("name: required, without surrounding spaces")
	case !filepath.IsAbs(p.Path):
		return fmt.Errorf("path: want an absolute path, got %q", p.Path)
	case filepath.Clean(p.Path) == "/":
		return errors.New("path: the root directory cannot be a pool")
	case !p.Thin && !p.Thick:
		return errors.New("offers neither thin nor thick volumes")
	case p.Granularity < 0 || p.MinVolume < 0 || p.MaxVolume < 0 || p.Capacity < 0:
		return errors.New("granularity, min_volume, max_volume and capacity must not be negative")
	case p.MaxVolume > 0 && p.MinVolume > p.MaxVolume:
		return fmt.Errorf("min_volume %d exceeds max_volume %d", p.MinVolume, p.MaxVolume)
	case p.MaxOversubscription < 0:
		return fmt.Errorf("max_oversubscription: must not be negative, got %g", p.MaxOversubscription)
	}
	return nil
}

// nested tells whether one of two paths is the other or lies inside it. Pools that overlap
// would list each other's files as their own.
func nested(a, b string) bool {
	a, b = filepath.Clean(a), filepath.Clean(b)
	return a == b || strings.HasPrefix(a, b+"/") || strings.HasPrefix(b, a+"/")
}
