package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// The layout of a pool directory. Volumes and their records live in volumes/, snapshots and
// theirs in snapshots/, files under construction in .staging/. Nothing else is touched.
const (
	volumesDir   = "volumes"
	snapshotsDir = "snapshots"
	stagingDir   = ".staging"
)

// fsops are the system calls whose support differs between filesystems. Tests replace them to
// play a filesystem this machine lacks.
type fsops struct {
	fallocate func(fd int, mode uint32, off, length int64) error
	clone     func(dst, src int) error
}

// systemFS is the real system calls.
func systemFS() fsops {
	return fsops{fallocate: unix.Fallocate, clone: unix.IoctlFileClone}
}

// pool is one configured pool. What the driver learns about the pool's filesystem is cached
// and learnt again when the directory comes to belong to another filesystem (a mount that
// appeared or changed), so nothing cached outlives the facts it was measured from.
type pool struct {
	cfg PoolConfig
	sys fsops
	log logger

	mu     sync.Mutex
	probed *fsInfo // nil until a probe succeeds
}

// fsInfo is what a probe learnt about a pool directory.
type fsInfo struct {
	dir       string // the pool's path with symbolic links resolved
	dev       uint64
	fsType    string
	fallocate bool // thick volumes can be made; else only thin ones are offered
	reflink   bool // the filesystem shares extents (FICLONE); whether copies use it is config
	detail    string
}

// state returns the pool's filesystem facts, probing the directory when it has not been
// probed or now belongs to another filesystem. Its error says why the pool is down.
func (p *pool) state() (*fsInfo, error) {
	dir, dev, err := p.locate()
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if i := p.probed; i != nil && i.dir == dir && i.dev == dev {
		return i, nil
	}
	i, err := p.probe(dir, dev)
	if err != nil {
		return nil, err
	}
	p.log.Info("pool probed", "pool", p.cfg.Name, "dir", dir, "filesystem", i.fsType,
		"fallocate", i.fallocate, "reflink", i.reflink, "detail", i.detail)
	p.probed = i
	return i, nil
}

// locate resolves the pool's path and checks that it is a directory, and a mount point when
// the configuration requires one.
func (p *pool) locate() (string, uint64, error) {
	dir, err := filepath.EvalSymlinks(p.cfg.Path)
	if err != nil {
		return "", 0, fmt.Errorf("pool directory: %w", err)
	}
	var st, parent unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return "", 0, fmt.Errorf("pool directory %s: %w", dir, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return "", 0, fmt.Errorf("pool path %s is not a directory", dir)
	}
	if p.cfg.RequireMount {
		if err := unix.Stat(filepath.Dir(dir), &parent); err != nil {
			return "", 0, fmt.Errorf("parent of the pool directory: %w", err)
		}
		if parent.Dev == st.Dev {
			return "", 0, fmt.Errorf("pool directory %s is not a mount point (require_mount is set)", dir)
		}
	}
	return dir, st.Dev, nil
}

// inside fails unless path, with symbolic links resolved, is dir or lies beneath it.
func inside(dir, path string) error {
	real, err := filepath.EvalSymlinks(filepath.Clean(path))
	if err != nil {
		return err
	}
	if real != dir && !strings.HasPrefix(real, dir+"/") {
		return fmt.Errorf("%s resolves to %s, outside the pool %s", path, real, dir)
	}
	return nil
}

// create makes a new empty file, replacing a leftover of the same name.
func create(root *os.Root, name string) (*os.File, error) {
	return root.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC|syscall.O_NOFOLLOW, 0o600)
}

// fd returns f's descriptor for a system call; f must stay open while it is used.
func fd(f *os.File) int { return int(f.Fd()) }
