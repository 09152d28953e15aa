package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// A sparse-aware copy: the source's data extents are found with SEEK_DATA and SEEK_HOLE and
// only they are copied, to the same offsets, so holes stay holes. Ranges a filesystem has
// preallocated but never written count as holes where it tracks them (ext4, XFS, btrfs), so a
// copy of a thick volume that was never written copies nothing.

const (
	// copyChunk is how much is copied between two looks at the context.
	copyChunk = 64 << 20
	// bufferSize is the buffer of a copy through user space.
	bufferSize = 1 << 20
)

// extent is a run of data in a file.
type extent struct{ off, len int64 }

// dataExtents lists the data in the first size bytes of the file fd. A filesystem that does
// not track holes reports the whole file as data.
func dataExtents(fd int, size int64) ([]extent, error) {
	var out []extent
	for off := int64(0); off < size; {
		start, err := unix.Seek(fd, off, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) { // nothing but holes from off to the end
			break
		} else if err != nil {
			return nil, fmt.Errorf("SEEK_DATA at %d: %w", off, err)
		}
		if start >= size {
			break
		}
		end, err := unix.Seek(fd, start, unix.SEEK_HOLE)
		if err != nil {
			return nil, fmt.Errorf("SEEK_HOLE at %d: %w", start, err)
		}
		end = min(end, size)
		out = append(out, extent{start, end - start})
		off = end
	}
	return out, nil
}

// dataBytes is the sum of the extents' lengths.
func dataBytes(exts []extent) int64 {
	var n int64
	for _, e := range exts {
		n += e.len
	}
	return n
}

// copyExtents copies exts of src into dst at the same offsets, looking at ctx between chunks.
// With kernel set, copy_file_range does the work in the kernel (or on an NFS server) and
// falls back to user space where it cannot; without it, data always passes through a buffer,
// which never makes the filesystem share extents.
func copyExtents(ctx context.Context, dst, src *os.File, exts []extent, kernel bool) error {
	var buf []byte
	for _, e := range exts {
		for off, end := e.off, e.off+e.len; off < end; {
			if err := ctx.Err(); err != nil {
				return err
			}
			n := min(copyChunk, end-off)
			if kernel {
				err := copyRange(dst, src, off, n)
				if errors.Is(err, errNoKernelCopy) {
					kernel = false
					continue // this chunk again, through the buffer
				}
				if err != nil {
					return err
				}
				off += n
				continue
			}
			if buf == nil {
				buf = make([]byte, bufferSize)
			}
			if err := copyBuffered(dst, src, off, n, buf); err != nil {
				return err
			}
			off += n
		}
	}
	return nil
}

// errNoKernelCopy says that copy_file_range cannot copy between these two files.
var errNoKernelCopy = errors.New("copy_file_range unsupported")

// copyRange copies n bytes at off with copy_file_range.
func copyRange(dst, src *os.File, off, n int64) error {
	roff, woff := off, off
	for n > 0 {
		c, err := unix.CopyFileRange(fd(src), &roff, fd(dst), &woff, int(n), 0)
		switch {
		case errors.Is(err, unix.EXDEV), errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.ENOSYS),
			errors.Is(err, unix.EINVAL):
			return errNoKernelCopy
		case err != nil:
			return fmt.Errorf("copy_file_range at %d: %w", roff, err)
		case c == 0:
			return fmt.Errorf("copy at %d: %w", roff, io.ErrUnexpectedEOF)
		}
		n -= int64(c)
	}
	return nil
}

// copyBuffered copies n bytes at off through buf.
func copyBuffered(dst, src *os.File, off, n int64, buf []byte) error {
	for n > 0 {
		b := buf[:min(int64(len(buf)), n)]
		if _, err := src.ReadAt(b, off); err != nil {
			return fmt.Errorf("read at %d: %w", off, err)
		}
		if _, err := dst.WriteAt(b, off); err != nil {
			return fmt.Errorf("write at %d: %w", off, err)
		}
		off += int64(len(b))
		n -= int64(len(b))
	}
	return nil
}
