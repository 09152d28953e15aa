package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// staleAfter is the age past which a file in staging belongs to no call still running: a call
// touches its file at every chunk it copies or allocates, and the host's deadlines are
// minutes. A reconfiguration probes again while the previous driver's calls may still run, so
// younger files are left to them, and to the next create or delete of their ID.
const staleAfter = time.Hour

// probe makes the pool's subdirectories, removes what interrupted calls left in staging long
// ago, and detects fallocate and reflink by trying them on scratch files.
func (p *pool) probe(dir string, dev uint64) (*fsInfo, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	for _, sub := range []string{volumesDir, snapshotsDir, stagingDir} {
		if err := root.MkdirAll(sub, 0o750); err != nil {
			return nil, fmt.Errorf("make %s in the pool: %w", sub, err)
		}
		if err := inside(dir, filepath.Join(dir, sub)); err != nil {
			return nil, err
		}
	}
	if err := p.sweep(root); err != nil {
		return nil, fmt.Errorf("clearing %s: %w", stagingDir, err)
	}
	i := &fsInfo{dir: dir, dev: dev, fsType: fsType(dir)}
	if err := p.detect(root, i); err != nil {
		return nil, fmt.Errorf("probing the filesystem: %w", err)
	}
	return i, nil
}

// sweep removes the files in staging that nothing has touched for staleAfter.
func (p *pool) sweep(root *os.Root) error {
	f, err := root.Open(stagingDir)
	if err != nil {
		return err
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	if err != nil {
		return err
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || time.Since(info.ModTime()) < staleAfter {
			continue
		}
		if err := root.RemoveAll(stagingDir + "/" + e.Name()); err != nil {
			return err
		}
		p.log.Info("removed a file an interrupted call left", "pool", p.cfg.Name, "file", e.Name(), "modified", info.ModTime())
	}
	return nil
}

// detect tries fallocate and FICLONE on two scratch files in staging, named at random so that
// two drivers probing at once (during a reconfiguration) do not meet.
func (p *pool) detect(root *os.Root, i *fsInfo) error {
	var b [8]byte
	_, _ = rand.Read(b[:])
	name := stagingDir + "/probe-" + hex.EncodeToString(b[:])
	src, err := exclusive(root, name)
	if err != nil {
		return err
	}
	defer root.Remove(name)
	defer src.Close()
	errAlloc := p.sys.fallocate(fd(src), 0, 0, 4096)
	i.fallocate = errAlloc == nil || errors.Is(errAlloc, unix.ENOSPC) || errors.Is(errAlloc, unix.EDQUOT)
	if _, err := src.WriteAt(make([]byte, 4096), 0); err != nil {
		return err
	}
	dst, err := exclusive(root, name+"-clone")
	if err != nil {
		return err
	}
	defer root.Remove(name + "-clone")
	defer dst.Close()
	errClone := p.sys.clone(fd(dst), fd(src))
	i.reflink = errClone == nil
	i.detail = fmt.Sprintf("fallocate: %v; FICLONE: %v", errText(errAlloc), errText(errClone))
	return nil
}

func exclusive(root *os.Root, name string) (*os.File, error) {
	return root.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
}

func errText(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// fsTypes names the filesystems whose magic numbers statfs reports.
var fsTypes = map[int64]string{
	unix.EXT4_SUPER_MAGIC: "ext4", unix.XFS_SUPER_MAGIC: "xfs", unix.BTRFS_SUPER_MAGIC: "btrfs",
	unix.TMPFS_MAGIC: "tmpfs", unix.NFS_SUPER_MAGIC: "nfs", unix.OVERLAYFS_SUPER_MAGIC: "overlay",
	0x2fc12fc1: "zfs", unix.F2FS_SUPER_MAGIC: "f2fs", unix.FUSE_SUPER_MAGIC: "fuse",
	unix.CIFS_SUPER_MAGIC: "cifs", unix.SMB2_SUPER_MAGIC: "smb2",
}

// fsType names the filesystem holding dir.
func fsType(dir string) string {
	var s unix.Statfs_t
	if err := unix.Statfs(dir, &s); err != nil {
		return "unknown"
	}
	if name, ok := fsTypes[int64(s.Type)]; ok {
		return name
	}
	return fmt.Sprintf("0x%x", uint64(s.Type))
}
