package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/kilnstorage/kiln/sdk"
	"golang.org/x/sys/unix"
)

const mib = 1 << 20

func mkdirs(t testing.TB, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// testConfig is a configuration with pools "a" (thin and thick) and "b" (thin and thick) in
// fresh directories.
func testConfig(t testing.TB) Config {
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	mkdirs(t, a, b)
	pool := func(name, path string) PoolConfig {
		return PoolConfig{Name: name, Path: path, Thin: true, Thick: true, Reflink: true, Granularity: mib}
	}
	return Config{Pools: []PoolConfig{pool("a", a), pool("b", b)}}
}

// testDriver builds a driver over cfg with the system calls sys; a zero sys is the real one.
func testDriver(t testing.TB, cfg Config, sys fsops) *Driver {
	t.Helper()
	if sys.fallocate == nil {
		sys.fallocate = systemFS().fallocate
	}
	if sys.clone == nil {
		sys.clone = systemFS().clone
	}
	d, err := newDriver(cfg, discard{}, sys)
	if err != nil {
		t.Fatalf("newDriver: %v", err)
	}
	return d
}

func mustCreate(t testing.TB, d *Driver, id, pool string, size int64, thin bool) sdk.Volume {
	t.Helper()
	v, err := d.CreateVolume(t.Context(), sdk.CreateVolumeRequest{ID: id, Pool: pool, SizeBytes: size, Thin: &thin})
	if err != nil {
		t.Fatalf("CreateVolume %s: %v", id, err)
	}
	return v
}

// writeAt writes data into the file at path at offset off, as a volume's consumer would, and
// syncs it, so that the blocks are allocated before the test measures anything.
func writeAt(t testing.TB, path string, off int64, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(data, off); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
}

// sameContent fails unless the files at a and b hold the same bytes.
func sameContent(t testing.TB, a, b string) {
	t.Helper()
	da, errA := os.ReadFile(a)
	db, errB := os.ReadFile(b)
	if err := errors.Join(errA, errB); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(da, db) {
		t.Errorf("%s (%d bytes) and %s (%d bytes) differ", a, len(da), b, len(db))
	}
}

// allocated returns the bytes of blocks allocated to the file at path.
func allocated(t testing.TB, path string) int64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Blocks * 512
}

// wantCode fails unless err carries code (and reason, when given).
func wantCode(t testing.TB, err error, code sdk.Code, reason string) {
	t.Helper()
	var e *sdk.Error
	switch {
	case sdk.CodeOf(err) != code:
		t.Fatalf("got %v (code %v), want code %v", err, sdk.CodeOf(err), code)
	case reason != "" && (!errors.As(err, &e) || e.Reason != reason):
		t.Fatalf("got %v, want reason %s", err, reason)
	}
}

// poolReport returns pool name from the driver's capacity report.
func poolReport(t testing.TB, d *Driver, name string) sdk.Pool {
	t.Helper()
	c, err := d.Capacity(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	p, ok := c.Pool(name)
	if !ok {
		t.Fatalf("pool %s missing from %+v", name, c.Pools)
	}
	return p
}
