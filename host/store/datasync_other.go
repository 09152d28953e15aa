//go:build !linux

package store

import "os"

// datasync makes f's data durable; elsewhere than Linux, with fsync.
func datasync(f *os.File) error { return f.Sync() }
