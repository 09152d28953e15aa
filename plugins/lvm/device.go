package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"syscall"
	"unsafe"
)

// devices is the block-device work behind wiping and thick copies, which needs active LVs.
type devices interface {
	// wipe zeroes ("zero") or discards ("discard") the whole block device at path.
	wipe(ctx context.Context, path, mode string) error
	// copy copies the first n bytes of src to dst and zeroes dst's remainder.
	copy(ctx context.Context, src, dst string, n int64) error
}

// blockDevices does the work with ioctls and reads and writes, a chunk at a time so that a
// call's context stops it between chunks.
type blockDevices struct{}

// Linux block-device ioctls (linux/fs.h): BLKDISCARD and BLKZEROOUT take {offset, length}.
const (
	blkDiscard = 0x1277
	blkZeroOut = 0x127f
)

// wipeChunk is how much one ioctl clears; copyChunk how much one read and write move.
const (
	wipeChunk = 256 << 20
	copyChunk = 4 << 20
)

func (blockDevices) wipe(ctx context.Context, path, mode string) error {
	op := uintptr(blkZeroOut)
	if mode == "discard" {
		op = blkDiscard
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("wipe: %w", err)
	}
	defer f.Close()
	end, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("wipe %s: %w", path, err)
	}
	if err := clearRange(ctx, f, op, 0, end); err != nil {
		return fmt.Errorf("wipe %s: %w", path, err)
	}
	return f.Sync()
}

// clearRange runs op over [from, to) of f, wipeChunk by wipeChunk.
func clearRange(ctx context.Context, f *os.File, op uintptr, from, to int64) error {
	for off := from; off < to; off += wipeChunk {
		if err := ctx.Err(); err != nil {
			return err
		}
		rng := [2]uint64{uint64(off), uint64(min(wipeChunk, to-off))}
		if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), op, uintptr(unsafe.Pointer(&rng[0]))); errno != 0 {
			return fmt.Errorf("ioctl at %d: %w", off, errno)
		}
	}
	return nil
}

func (blockDevices) copy(ctx context.Context, src, dst string, n int64) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	defer out.Close()
	buf := make([]byte, copyChunk)
	for off := int64(0); off < n; {
		if err := ctx.Err(); err != nil {
			return err
		}
		m, err := in.ReadAt(buf[:min(copyChunk, n-off)], off)
		if m == 0 && err != nil {
			return fmt.Errorf("copy: reading %s at %d: %w", src, off, err)
		}
		if _, err := out.WriteAt(buf[:m], off); err != nil {
			return fmt.Errorf("copy: %w", err)
		}
		off += int64(m)
	}
	end, err := out.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	if err := clearRange(ctx, out, blkZeroOut, n, end); err != nil {
		return fmt.Errorf("copy: zeroing %s past the source: %w", dst, err)
	}
	return out.Sync()
}
