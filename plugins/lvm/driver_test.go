package main

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kilnstorage/kiln/sdk"
)

// newDriver configures the driver on a loop VG, as the SDK would.
func newDriver(t *testing.T, vg *testVG) *Driver {
	t.Helper()
	cfg := Config{StateDir: t.TempDir(), Pools: []PoolConfig{{Name: "thick", VG: vg.name}},
		Activation: "off", Wipe: "zero", LVM: "lvm", VGCommands: 4, Archives: 5, Grace: 5 * time.Second,
		LVMConfig: vg.config(t)["lvm_config"].(string)}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	d, err := New(context.Background(), cfg, sdk.Env{Backend: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestCancelWhileVGLocked holds the VG's lvm2 lock so that an lvcreate waits for it, ends the
// call's context, and checks that the call returns at once, that the interrupted command's
// process is gone, and that the next create succeeds.
func TestCancelWhileVGLocked(t *testing.T) {
	vg := loopVG(t, 8<<30)
	d := newDriver(t, vg)
	lock, err := os.OpenFile("/run/lock/lvm/V_"+vg.name, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	req := sdk.CreateVolumeRequest{ID: "cancelled", Pool: "thick", SizeBytes: 64 << 20}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = d.CreateVolume(ctx, req)
	if took := time.Since(start); sdk.CodeOf(err) != sdk.DeadlineExceeded || took > 2*time.Second {
		t.Errorf("CreateVolume while the VG is locked: %v after %v; want DeadlineExceeded at once", err, took)
	}
	if procs := lvmProcesses(vg.name); len(procs) > 0 {
		t.Errorf("lvm processes still run after the call ended: %v", procs)
	}
	_ = syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if _, err := d.CreateVolume(context.Background(), req); err != nil {
		t.Fatalf("CreateVolume after the lock is released: %v", err)
	}
	if err := d.DeleteVolume(context.Background(), sdk.VolumeRef{ID: req.ID, Pool: "thick"}); err != nil {
		t.Fatal(err)
	}
}

// lvmProcesses lists the command lines of running processes that mention vg.
func lvmProcesses(vg string) []string {
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.Contains(string(cmdline), vg) && strings.Contains(string(cmdline), "lvcreate") {
			out = append(out, strings.ReplaceAll(string(cmdline), "\x00", " "))
		}
	}
	return out
}

// TestListOrphans: an LV tagged as a Kiln volume is listed whether or not the host knows it
// (an orphan), page by page; an untagged LV in the same VG is not.
func TestListOrphans(t *testing.T) {
	vg := loopVG(t, 8<<30)
	d := newDriver(t, vg)
	vg.must(t, "lvcreate", "--name", "kiln-volume-orphan", "--size", "8m", "--addtag", "kiln.id=orphan",
		"--addtag", "kiln.kind=volume", vg.name)
	vg.must(t, "lvcreate", "--name", "someone-else", "--size", "8m", vg.name)
	if _, err := d.CreateVolume(context.Background(), sdk.CreateVolumeRequest{ID: "known", Pool: "thick", SizeBytes: 8 << 20}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	req := sdk.ListRequest{Limit: 1}
	for {
		page, err := d.ListVolumes(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range page.Volumes {
			ids = append(ids, v.ID)
		}
		if page.NextPageToken == "" {
			break
		}
		req.PageToken = page.NextPageToken
	}
	if strings.Join(ids, ",") != "known,orphan" {
		t.Errorf("listed %v, want known and orphan", ids)
	}
}

// TestStateDir: the driver writes its lvm.conf with use_aio off and bounded archives into the
// backend's directory, and lvm2 reads it.
func TestStateDir(t *testing.T) {
	vg := loopVG(t, 8<<30)
	d := newDriver(t, vg)
	out, err := d.lvm.run(context.Background(), scope{}, "lvmconfig", "global/use_aio", "global/activation", "backup/retain_min")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(string(out)); strings.Join(got, " ") != "use_aio=0 activation=0 retain_min=5" {
		t.Errorf("lvmconfig reads %q", got)
	}
}

// TestNoSpaceBytes: a create larger than the VG's free space is NoSpace with lvm2's extent
// counts turned into bytes: the size asked and the VG's free bytes.
func TestNoSpaceBytes(t *testing.T) {
	vg := loopVG(t, 8<<30)
	d := newDriver(t, vg)
	report, err := d.Capacity(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	free := report.Pools[0].FreeBytes
	need := free + 4<<20
	_, err = d.CreateVolume(context.Background(), sdk.CreateVolumeRequest{ID: "big", Pool: "thick", SizeBytes: need})
	var e *sdk.Error
	if !errors.As(err, &e) || e.Code != sdk.NoSpace {
		t.Fatalf("CreateVolume of %d bytes with %d free: %v, want NoSpace", need, free, err)
	}
	if e.Meta["need_bytes"] != strconv.FormatInt(need, 10) || e.Meta["free_bytes"] != strconv.FormatInt(free, 10) {
		t.Errorf("NoSpace meta %v, want need %d and free %d", e.Meta, need, free)
	}
}

// TestBadLVMConfig: lvm2 validates the written lvm.conf, so a bad lvm_config fails Configure
// with InvalidArgument instead of failing every later command.
func TestBadLVMConfig(t *testing.T) {
	requireLVM(t)
	for _, extra := range []string{"devices { nonsense = 1 }", "devices {"} {
		cfg := Config{StateDir: t.TempDir(), Pools: []PoolConfig{{Name: "thick", VG: "kilntest-none"}},
			Activation: "off", Wipe: "none", LVM: "lvm", VGCommands: 4, Grace: time.Second, LVMConfig: extra}
		_, err := New(context.Background(), cfg, sdk.Env{})
		if sdk.CodeOf(err) != sdk.InvalidArgument {
			t.Errorf("lvm_config %q: %v, want InvalidArgument", extra, err)
		}
	}
}
