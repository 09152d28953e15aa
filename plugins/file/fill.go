package main

import (
	"context"
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// allocChunk is how much one fallocate call preallocates, so that a large thick volume looks
// at its context between calls.
const allocChunk = 1 << 30

// source is a committed file a new one is copied from: a volume or a snapshot, in any pool.
type source struct {
	site
	name string // its file in the site
	obj  object
}

// fill gives the new file f (empty, in staging) its size and content: nothing, or src's data.
// A thick file is preallocated in full and the free space it needs is checked first. It
// returns the copy method used, or "" when nothing was copied.
func (s site) fill(ctx context.Context, f *os.File, src *source, size int64, thin bool) (string, error) {
	switch {
	case src != nil:
		return s.copyFrom(ctx, f, *src, size, thin)
	case thin:
		return "", f.Truncate(size)
	}
	if err := s.reserve(size); err != nil {
		return "", err
	}
	return "", s.allocate(ctx, f, 0, size)
}

// allocate preallocates the bytes [from, to) of f with fallocate — never a write loop — and
// then sets its size to to. The blocks are allocated before the size grows, so an interrupted
// extend leaves the old size, and the call can be made again.
func (s site) allocate(ctx context.Context, f *os.File, from, to int64) error {
	for off := from; off < to; off += allocChunk {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(allocChunk, to-off)
		if err := s.p.sys.fallocate(fd(f), unix.FALLOC_FL_KEEP_SIZE, off, n); err != nil {
			return &os.PathError{Op: "fallocate", Path: f.Name(), Err: err}
		}
	}
	return f.Truncate(to)
}

// copyFrom fills dst with src's data and sets its size to size: by reflink when the pool uses
// it and the kernel agrees, else by a sparse copy.
func (s site) copyFrom(ctx context.Context, dst *os.File, src source, size int64, thin bool) (string, error) {
	in, err := src.root.OpenFile(src.name, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return "", err
	}
	defer in.Close()
	if s.reflinks() {
		err := s.p.sys.clone(fd(dst), fd(in))
		if err == nil {
			return copyReflink, s.grow(ctx, dst, src.obj, size, thin)
		}
		// Another filesystem (a pool elsewhere) or extents the filesystem will not share:
		// copy the data instead.
		s.p.log.Debug("reflink refused, copying the data", "pool", s.p.cfg.Name, "from", src.path(src.name), "error", err)
	}
	return copySparse, s.sparseCopy(ctx, dst, in, src.obj.size, size, thin)
}

// sparseCopy copies the data extents of the first srcSize bytes of in into dst, whose size it
// sets to size; a thick dst is preallocated in full first.
func (s site) sparseCopy(ctx context.Context, dst, in *os.File, srcSize, size int64, thin bool) error {
	exts, err := dataExtents(fd(in), srcSize)
	if err != nil {
		return err
	}
	need := size
	if thin {
		need = dataBytes(exts)
	}
	if err := s.reserve(need); err != nil {
		return err
	}
	if thin {
		err = dst.Truncate(size)
	} else {
		err = s.allocate(ctx, dst, 0, size)
	}
	if err != nil {
		return err
	}
	// copy_file_range may share extents on its own (XFS, btrfs); a pool told not to reflink
	// copies through user space instead.
	kernel := !s.info.reflink || s.p.cfg.Reflink
	return copyExtents(ctx, dst, in, exts, kernel)
}

// grow brings a reflinked copy of src to size; a thick one gets its holes and its new tail
// preallocated. Extents it shares with its source stay shared until they are written.
func (s site) grow(ctx context.Context, dst *os.File, src object, size int64, thin bool) error {
	if thin {
		return dst.Truncate(size)
	}
	if err := s.reserve(max(0, size-src.allocated)); err != nil {
		return err
	}
	return s.allocate(ctx, dst, 0, size)
}

// build makes the file of kind id in staging with fill, syncs it and returns the copy method.
// On any failure, a cancelled context included, the partial file is removed, so that the next
// idempotent call starts afresh.
func (s site) build(kind, id string, mode os.FileMode, fill func(*os.File) (string, error)) (string, error) {
	name := stagingName(kind, id)
	f, err := create(s.root, name)
	if err != nil {
		return "", err
	}
	method, err := fill(f)
	if err == nil && mode != 0o600 {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if err = errors.Join(err, f.Close()); err != nil {
		if rmErr := s.root.Remove(name); rmErr != nil {
			s.p.log.Warn("removing a partial file failed", "pool", s.p.cfg.Name, "file", name, "error", rmErr)
		}
		return "", err
	}
	return method, nil
}
