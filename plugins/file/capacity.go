package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/kilnstorage/kiln/sdk"
	"golang.org/x/sys/unix"
)

// Copy methods, as the attribute copy_method and a copy's ProviderData spell them.
const (
	copyReflink = "reflink"
	copySparse  = "sparse-copy"
)

// Capacity reports every configured pool: total and free bytes from statfs, provisioned bytes
// as the sum of the volumes' apparent sizes, and what the filesystem can do.
func (d *Driver) Capacity(ctx context.Context) (sdk.Capacity, error) {
	pools := make([]sdk.Pool, 0, len(d.pools))
	for _, p := range d.pools {
		if err := ctx.Err(); err != nil {
			return sdk.Capacity{}, err
		}
		pools = append(pools, p.report())
	}
	return sdk.Capacity{Pools: pools}, nil
}

// Probe succeeds while at least one pool is up. It only looks at the pool directories, which
// is cheaper than Capacity's listing of every volume.
func (d *Driver) Probe(context.Context) error {
	var errs []error
	for _, p := range d.pools {
		_, err := p.state()
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("pool %s: %w", p.cfg.Name, err))
	}
	e := sdk.ErrorUnavailable("no pool is up: "+errors.Join(errs...).Error(), 10*time.Second)
	e.Reason = "NO_POOL_UP"
	return e
}

// report is the pool's capacity report; a pool whose directory cannot be used is down, with
// the reason.
func (p *pool) report() sdk.Pool {
	c := p.cfg
	r := sdk.Pool{Name: c.Name, Thin: c.Thin, Thick: c.Thick,
		MaxOversubscription: c.MaxOversubscription, GranularityBytes: max(1, int64(c.Granularity)),
		MinVolumeBytes: int64(c.MinVolume), MaxVolumeBytes: int64(c.MaxVolume),
		Features: features()}
	s, err := open(p)
	if err == nil {
		defer s.close()
		err = s.measure(&r)
	}
	if err != nil {
		var e *sdk.Error
		if errors.As(err, &e) && e.Err != nil {
			err = e.Err // the cause, without "pool … is down"
		}
		r.State, r.StateReason, r.CapacityUnknown = sdk.PoolDown, err.Error(), true
		return r
	}
	r.Thick = c.Thick && s.info.fallocate
	if !r.Thin && !r.Thick {
		r.Thick = true // what the pool is configured to offer, while it cannot
		r.State, r.StateReason = sdk.PoolDown, "only thick volumes are configured and the "+
			s.info.fsType+" filesystem does not support fallocate"
	}
	return r
}

// features are the same for every pool: files are independent of each other, so snapshots
// outlive their volume and copies may cross pools (by a data copy when reflink cannot).
// Extending an attached file would need its consumer to notice, as for Cinder's NFS driver.
func features() *sdk.FeatureSet {
	return &sdk.FeatureSet{Snapshots: true, CreateFromSnapshot: true, Clone: true, Extend: true,
		CloneAcrossPools: true, IndependentSnapshots: true, Protocols: []string{"file"}}
}

// measure fills the pool's byte counts and attributes.
func (s site) measure(r *sdk.Pool) error {
	total, free, u, err := s.space()
	if err != nil {
		return err
	}
	r.TotalBytes, r.FreeBytes, r.ProvisionedBytes = total, free, u.provisioned
	method := copySparse
	if s.reflinks() {
		method = copyReflink
	}
	r.Attributes = map[string]sdk.Attribute{
		"filesystem":      sdk.StringAttr(s.info.fsType),
		"copy_method":     sdk.StringAttr(method),
		"fallocate":       sdk.BoolAttr(s.info.fallocate),
		"allocated_bytes": sdk.IntAttr(u.allocated, "B"),
		"total_volumes":   sdk.IntAttr(u.volumes, ""),
		"total_snapshots": sdk.IntAttr(u.snapshots, ""),
		"snapshot_bytes":  sdk.IntAttr(u.snapshotBytes, "B"),
	}
	return nil
}

// space returns the pool's total and free bytes: the filesystem's, capped by the pool's
// configured capacity less what the pool's files take.
func (s site) space() (total, free int64, u usage, err error) {
	if total, free, err = statfs(s.info.dir); err != nil {
		return 0, 0, usage{}, err
	}
	if u, err = s.usage(); err != nil {
		return 0, 0, usage{}, err
	}
	if c := int64(s.p.cfg.Capacity); c > 0 {
		total = min(total, c)
		free = min(free, max(0, c-u.taken()))
	}
	return total, min(free, total), u, nil
}

// free returns the pool's free bytes; without a capacity, from statfs alone.
func (s site) free() (int64, error) {
	if s.p.cfg.Capacity == 0 {
		_, free, err := statfs(s.info.dir)
		return free, err
	}
	_, free, _, err := s.space()
	return free, err
}

// reserve fails with NoSpace unless the pool has need bytes free. It is the early, cheap
// answer; the kernel's ENOSPC during the work is the authoritative one, and a capacity is a
// soft limit that creates running at the same moment may overshoot together.
func (s site) reserve(need int64) error {
	free, err := s.free()
	if err != nil {
		return s.fail("statfs", need, err)
	}
	if need > free {
		return sdk.ErrorNoSpace(s.p.cfg.Name, need, free)
	}
	return nil
}

// statfs returns the total and the free bytes of the filesystem holding dir. Free bytes are
// those an unprivileged writer may use, so the root-reserved blocks never count as free.
func statfs(dir string) (total, free int64, err error) {
	var s unix.Statfs_t
	if err := unix.Statfs(dir, &s); err != nil {
		return 0, 0, err
	}
	unit := s.Frsize
	if unit <= 0 {
		unit = s.Bsize
	}
	return int64(s.Blocks) * unit, int64(s.Bavail) * unit, nil
}

// usage is what a pool's files take.
type usage struct {
	provisioned, allocated int64 // volumes: apparent sizes, allocated blocks
	volumes, snapshots     int64
	snapshotBytes          int64 // allocated blocks of snapshots
	buildingBytes          int64 // allocated blocks of files in staging
}

// taken is every block the pool's files hold.
func (u usage) taken() int64 { return u.allocated + u.snapshotBytes + u.buildingBytes }

// usage adds up the pool's files from one directory listing each: committed volumes and
// snapshots, and whatever is being built.
func (s site) usage() (usage, error) {
	var u usage
	err := errors.Join(
		s.each(volumesDir, true, func(size, allocated int64) {
			u.volumes++
			u.provisioned += size
			u.allocated += allocated
		}),
		s.each(snapshotsDir, true, func(_, allocated int64) {
			u.snapshots++
			u.snapshotBytes += allocated
		}),
		s.each(stagingDir, false, func(_, allocated int64) { u.buildingBytes += allocated }))
	return u, err
}

// each calls fn with the apparent and allocated bytes of every regular file in dir, or only
// of those that have a record when committed is set.
func (s site) each(dir string, committed bool, fn func(size, allocated int64)) error {
	f, err := s.root.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	if err != nil {
		return err
	}
	records := make(map[string]bool, len(entries)/2)
	for _, e := range entries {
		if id, ok := strings.CutSuffix(e.Name(), ".json"); ok {
			records[id] = true
		}
	}
	for _, e := range entries {
		if (committed && !records[e.Name()]) || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // deleted since the listing
		}
		var blocks int64
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			blocks = st.Blocks * 512
		}
		fn(info.Size(), blocks)
	}
	return nil
}
