package store

import (
	"os"
	"syscall"
)

// datasync makes f's data durable, with the metadata needed to read it back (its size), but
// not its times: fdatasync, as SQLite itself syncs its log on Linux. SQLite rewrites the log
// in place after each checkpoint, so most syncs change no size and write no inode.
func datasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}
