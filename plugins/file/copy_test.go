package main

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kilnstorage/kiln/sdk"
	"golang.org/x/sys/unix"
)

// sparseFile makes a file of size bytes with data (not zeros) at each of the offsets and
// holes everywhere else.
func sparseFile(t testing.TB, path string, size int64, offsets ...int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	block := make([]byte, 8192)
	for i := range block {
		block[i] = byte(i*7 + 1)
	}
	for _, off := range offsets {
		if _, err := f.WriteAt(block, off); err != nil {
			t.Fatal(err)
		}
	}
}

func extentsOf(t testing.TB, path string) []extent {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, _ := f.Stat()
	exts, err := dataExtents(fd(f), info.Size())
	if err != nil {
		t.Fatal(err)
	}
	return exts
}

func TestSparseCopyKeepsHolesAndData(t *testing.T) {
	const size = 64 * mib
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	sparseFile(t, src, size, 0, 3*mib, 40*mib-8192, size-8192)
	want := extentsOf(t, src)
	if len(want) < 2 || dataBytes(want) >= size/2 {
		t.Fatalf("the source is not sparse on this filesystem: extents %v", want)
	}
	for _, kernel := range []bool{true, false} {
		name := map[bool]string{true: "copy_file_range", false: "buffer"}[kernel]
		t.Run(name, func(t *testing.T) {
			dst := filepath.Join(dir, name)
			in, _ := os.Open(src)
			defer in.Close()
			out, _ := os.Create(dst)
			defer out.Close()
			if err := out.Truncate(size); err != nil {
				t.Fatal(err)
			}
			if err := copyExtents(t.Context(), out, in, want, kernel); err != nil {
				t.Fatal(err)
			}
			sameContent(t, src, dst)
			if diff := cmp.Diff(want, extentsOf(t, dst), cmp.AllowUnexported(extent{})); diff != "" {
				t.Errorf("data extents of the copy (-source +copy):\n%s", diff)
			}
			if got := allocated(t, dst); got > 2*dataBytes(want) {
				t.Errorf("the copy allocates %d bytes for %d bytes of data", got, dataBytes(want))
			}
		})
	}
}

func TestDataExtentsOfHolesAndPreallocation(t *testing.T) {
	dir := t.TempDir()
	sparseFile(t, filepath.Join(dir, "empty"), 8*mib)
	if exts := extentsOf(t, filepath.Join(dir, "empty")); len(exts) != 0 {
		t.Errorf("a file of holes has extents %v", exts)
	}
	d := testDriver(t, testConfig(t), fsops{})
	v := mustCreate(t, d, "thick", "a", 8*mib, false)
	if exts := extentsOf(t, v.ProviderData["path"]); dataBytes(exts) != 0 {
		t.Logf("this filesystem reports preallocated ranges as data: %v", exts)
	}
}

// countdownCtx is a context that is live for its first n looks and cancelled after, so that a
// test cancels a copy between two extents without racing a timer.
type countdownCtx struct {
	context.Context
	n atomic.Int64
}

func (c *countdownCtx) Err() error {
	if c.n.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

// TestCancelledCopyLeavesNothing cancels a clone between extents: the call returns the
// context's error, leaves no partial file, and the same call then succeeds.
func TestCancelledCopyLeavesNothing(t *testing.T) {
	cfg := testConfig(t)
	d := testDriver(t, cfg, fsops{})
	src := mustCreate(t, d, "src", "a", 32*mib, true)
	for i := range int64(8) {
		writeAt(t, src.ProviderData["path"], i*4*mib, []byte("data"))
	}
	req := sdk.CreateVolumeRequest{ID: "copy", Pool: "a", SizeBytes: 32 * mib}
	ctx := &countdownCtx{Context: t.Context()}
	ctx.n.Store(3)
	_, err := d.CloneVolume(ctx, req, src.Ref())
	wantCode(t, err, sdk.Canceled, "")
	staging, _ := os.ReadDir(filepath.Join(cfg.Pools[0].Path, stagingDir))
	if len(staging) > 0 {
		t.Errorf("a cancelled copy left %v in staging", staging)
	}
	if _, err := d.GetVolume(t.Context(), sdk.VolumeRef{ID: "copy", Pool: "a"}); sdk.CodeOf(err) != sdk.NotFound {
		t.Errorf("GetVolume of a cancelled copy: %v, want NotFound", err)
	}
	v, err := d.CloneVolume(t.Context(), req, src.Ref())
	if err != nil {
		t.Fatalf("the clone after a cancelled one: %v", err)
	}
	sameContent(t, src.ProviderData["path"], v.ProviderData["path"])
}

// TestCancelledThickCreateLeavesNothing cancels a thick create between two fallocate calls
// (played, so that no gigabytes are really allocated).
func TestCancelledThickCreateLeavesNothing(t *testing.T) {
	cfg := testConfig(t)
	calls := 0
	d := testDriver(t, cfg, fsops{fallocate: func(_ int, mode uint32, _, _ int64) error {
		if mode == unix.FALLOC_FL_KEEP_SIZE { // not a probe's
			calls++
		}
		return nil
	}})
	ctx := &countdownCtx{Context: t.Context()}
	ctx.n.Store(1)
	req := sdk.CreateVolumeRequest{ID: "v", Pool: "a", SizeBytes: 3 << 30, Thin: new(false)}
	_, err := d.CreateVolume(ctx, req)
	wantCode(t, err, sdk.Canceled, "")
	if calls != 1 {
		t.Errorf("%d fallocate calls of the create, want one before the cancellation", calls)
	}
	if staging, _ := os.ReadDir(filepath.Join(cfg.Pools[0].Path, stagingDir)); len(staging) > 0 {
		t.Errorf("a cancelled create left %v in staging", staging)
	}
	if _, err := d.CreateVolume(t.Context(), req); err != nil {
		t.Errorf("the create after a cancelled one: %v", err)
	}
}
