package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// loopDevice attaches a file of size bytes filled with fill to a loop device, detached in
// Cleanup. The wipe and copy code runs against it as it would against an active LV.
func loopDevice(t *testing.T, size int, fill byte) string {
	t.Helper()
	requireLVM(t)
	img := filepath.Join(t.TempDir(), "dev.img")
	if err := os.WriteFile(img, bytes.Repeat([]byte{fill}, size), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("losetup", "--find", "--show", img).CombinedOutput()
	if err != nil {
		skipLoudly(t, "losetup cannot attach a loop device: %v: %s", err, out)
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() { _ = exec.Command("losetup", "--detach", dev).Run() })
	return dev
}

func readDevice(t *testing.T, dev string) []byte {
	t.Helper()
	b, err := os.ReadFile(dev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCopyZeroesTail: a copy carries the source's bytes and zeroes the rest of the target, so
// a larger copy leaks nothing of the target's previous contents.
func TestCopyZeroesTail(t *testing.T) {
	src := loopDevice(t, 6<<20, 0xab)
	dst := loopDevice(t, 16<<20, 0xcd)
	n := int64(5 << 20)
	if err := (blockDevices{}).copy(context.Background(), src, dst, n); err != nil {
		t.Fatal(err)
	}
	got := readDevice(t, dst)
	if !bytes.Equal(got[:n], bytes.Repeat([]byte{0xab}, int(n))) {
		t.Error("the copied range differs from the source")
	}
	if !bytes.Equal(got[n:], make([]byte, len(got)-int(n))) {
		t.Error("the target past the copied range is not zero")
	}
}

// TestWipe zeroes a whole device in chunks.
func TestWipe(t *testing.T) {
	dev := loopDevice(t, 8<<20, 0xef)
	if err := (blockDevices{}).wipe(context.Background(), dev, "zero"); err != nil {
		t.Fatal(err)
	}
	if got := readDevice(t, dev); !bytes.Equal(got, make([]byte, len(got))) {
		t.Error("the device is not zero after wipe")
	}
}

// TestWipeCancelled stops before the first chunk when the context has ended.
func TestWipeCancelled(t *testing.T) {
	dev := loopDevice(t, 1<<20, 0xef)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := (blockDevices{}).wipe(ctx, dev, "zero"); err == nil {
		t.Error("wipe on an ended context succeeded")
	}
}
