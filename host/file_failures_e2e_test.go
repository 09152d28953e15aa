package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/snapshots"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
)

// fileConfig is one file backend on a directory, capped at 20 GiB.
const fileConfig = `
listen   = %[1]q
data_dir = %[2]q
auth {
  mode = "noauth"
}
backend "files" {
  driver = "file"
  config {
    pool {
      name     = "p"
      path     = %[3]q
      capacity = "20GiB"
    }
  }
}
`

// immutable sets or clears the immutable attribute of path (chattr), which makes the kernel
// refuse every change to it, even root's: a real failure of the file driver's syscalls.
func immutable(t *testing.T, path string, on bool) {
	t.Helper()
	flag := "-i"
	if on {
		flag = "+i"
		t.Cleanup(func() { _ = exec.Command("chattr", "-i", path).Run() })
	}
	if out, err := exec.Command("chattr", flag, path).CombinedOutput(); err != nil {
		t.Fatalf("chattr %s %s: %v\n%s", flag, path, err, out)
	}
}

// canChattr reports whether dir's filesystem takes the immutable attribute (ext4, XFS and
// btrfs do; tmpfs does not) and this process may set it (root).
func canChattr(dir string) bool {
	probe := filepath.Join(dir, "chattr-probe")
	if err := os.WriteFile(probe, nil, 0o600); err != nil {
		return false
	}
	defer os.Remove(probe)
	if exec.Command("chattr", "+i", probe).Run() != nil {
		return false
	}
	return exec.Command("chattr", "-i", probe).Run() == nil
}

// TestEndToEnd_fileDriverFailures makes each operation of the file driver fail for real — the
// kernel refuses the change because a directory or file of the pool is immutable — and checks
// each revert through the API: the object's status, the quota usage, the pool's files, and
// that nothing is left in a transient status. Then it lifts the failures, cleans up with the
// admin actions, and kiln quota check finds usage equal to the rows.
func TestEndToEnd_fileDriverFailures(t *testing.T) {
	pool := t.TempDir()
	if !canChattr(pool) {
		t.Skip("the immutable attribute cannot be set here (chattr needs root and ext4, XFS or btrfs)")
	}
	c, addr, bin, cfg := startAgent(t, 1, func(data, addr string) string {
		return fmt.Sprintf(fileConfig, addr, data, pool)
	}, "file")
	ctx := context.Background()
	kiln := func(args ...string) string { t.Helper(); return mustKiln(t, bin, addr, args...) }
	usage := func() [3]int {
		t.Helper()
		u := usageNow(t, c)
		if u.Gigabytes.Reserved+u.Volumes.Reserved+u.Snapshots.Reserved != 0 {
			t.Errorf("reserved quota left: %+v", u)
		}
		return [3]int{u.Gigabytes.InUse, u.Volumes.InUse, u.Snapshots.InUse}
	}
	exists := func(rel string) bool {
		_, err := os.Stat(filepath.Join(pool, rel))
		return err == nil
	}
	staging := filepath.Join(pool, ".staging")

	vol := mustVolume(t, c, volumes.CreateOpts{Size: 1})
	snap := mustSnapshot(t, c, snapshots.CreateOpts{VolumeID: vol.ID})
	if vol.Status != "available" || snap.Status != "available" {
		t.Fatalf("setup: volume %s, snapshot %s", vol.Status, snap.Status)
	}
	base := usage() // 2 GiB, 1 volume, 1 snapshot

	t.Run("create", func(t *testing.T) {
		immutable(t, staging, true)
		for name, opts := range map[string]volumes.CreateOpts{
			"empty":         {Size: 1},
			"from snapshot": {SnapshotID: snap.ID},
			"clone":         {SourceVolID: vol.ID},
		} {
			v, err := volumes.Create(ctx, c, opts, nil).Extract()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if v = settled(t, c, v.ID); v.Status != "error" || exists("volumes/"+v.ID) {
				t.Errorf("%s: %s, file there: %v; want error and no file", name, v.Status, exists("volumes/"+v.ID))
			}
			// The driver failed, not the scheduler: the fault is the kernel's refusal.
			if raw := rawVolume(t, addr, v.ID); !strings.Contains(raw, "operation not permitted") {
				t.Errorf("%s: the fault does not show the driver's failure: %s", name, raw)
			}
		}
		// An error volume keeps its quota until deleted (Cinder): 3 more volumes, 3 GiB.
		if got := usage(); got != [3]int{base[0] + 3, base[1] + 3, base[2]} {
			t.Errorf("usage %v after three failed creates, base %v", got, base)
		}
		if s, _ := snapshots.Get(ctx, c, snap.ID).Extract(); s.Status != "available" {
			t.Errorf("the source snapshot is %s", s.Status)
		}
		if v, _ := volumes.Get(ctx, c, vol.ID).Extract(); v.Status != "available" {
			t.Errorf("the source volume is %s", v.Status)
		}
		immutable(t, staging, false)
	})

	t.Run("snapshot create", func(t *testing.T) {
		immutable(t, staging, true)
		s, err := snapshots.Create(ctx, c, snapshots.CreateOpts{VolumeID: vol.ID}).Extract()
		if err != nil {
			t.Fatal(err)
		}
		if s = snapshotSettled(t, c, s.ID); s.Status != "error" || exists("snapshots/"+s.ID) {
			t.Errorf("snapshot %s, file there: %v; want error and no file", s.Status, exists("snapshots/"+s.ID))
		}
		immutable(t, staging, false)
		kiln("snapshot", "delete", s.ID)
	})

	t.Run("extend", func(t *testing.T) {
		before := usage()
		immutable(t, filepath.Join(pool, "volumes", vol.ID), true)
		if err := volumes.ExtendSize(ctx, c, vol.ID, volumes.ExtendSizeOpts{NewSize: 2}).ExtractErr(); err != nil {
			t.Fatal(err)
		}
		if v := settledNot(t, c, vol.ID, "extending"); v.Status != "error_extending" || v.Size != 1 {
			t.Errorf("volume %s at %d GiB, want error_extending at 1", v.Status, v.Size)
		}
		if fi, err := os.Stat(filepath.Join(pool, "volumes", vol.ID)); err != nil || fi.Size() != 1<<30 {
			t.Errorf("the volume's file after the failed extend: %v, %v", fi, err)
		}
		if got := usage(); got != before {
			t.Errorf("usage %v after the failed extend, want %v", got, before)
		}
		immutable(t, filepath.Join(pool, "volumes", vol.ID), false)
		kiln("volume", "reset-status", vol.ID, "available")
	})

	t.Run("delete", func(t *testing.T) {
		before := usage()
		immutable(t, filepath.Join(pool, "snapshots"), true)
		if err := snapshots.Delete(ctx, c, snap.ID).ExtractErr(); err != nil {
			t.Fatal(err)
		}
		if s, _ := snapshots.Get(ctx, c, snap.ID).Extract(); s.Status != "error_deleting" || !exists("snapshots/"+snap.ID) {
			t.Errorf("snapshot %s, file there: %v; want error_deleting, the file kept", s.Status, exists("snapshots/"+snap.ID))
		}
		immutable(t, filepath.Join(pool, "snapshots"), false)
		extra, err := volumes.Create(ctx, c, volumes.CreateOpts{Size: 1}, nil).Extract()
		if err != nil || settled(t, c, extra.ID).Status != "available" {
			t.Fatalf("create: %v", err)
		}
		immutable(t, filepath.Join(pool, "volumes"), true)
		if err := volumes.Delete(ctx, c, extra.ID, nil).ExtractErr(); err != nil {
			t.Fatal(err)
		}
		if v, _ := volumes.Get(ctx, c, extra.ID).Extract(); v.Status != "error_deleting" || !exists("volumes/"+extra.ID) {
			t.Errorf("volume %s, file there: %v; want error_deleting, the file kept", v.Status, exists("volumes/"+extra.ID))
		}
		// An admin's force delete meets the same failure.
		kiln("volume", "delete", "-force", extra.ID)
		if v, _ := volumes.Get(ctx, c, extra.ID).Extract(); v.Status != "error_deleting" || !exists("volumes/"+extra.ID) {
			t.Errorf("forced: volume %s, file there: %v; want error_deleting, the file kept", v.Status, exists("volumes/"+extra.ID))
		}
		if got := usage(); got != [3]int{before[0] + 1, before[1] + 1, before[2]} {
			t.Errorf("usage %v after the failed deletes, want %v plus the new volume", got, before)
		}
		immutable(t, filepath.Join(pool, "volumes"), false)

		// A cascade whose snapshot cannot be deleted: the volume and its snapshots end
		// error_deleting, nothing given back, nothing removed.
		parent := mustVolume(t, c, volumes.CreateOpts{Size: 1})
		child := mustSnapshot(t, c, snapshots.CreateOpts{VolumeID: parent.ID})
		before = usage()
		immutable(t, filepath.Join(pool, "snapshots"), true)
		kiln("snapshot", "force-delete", snap.ID)
		if s, _ := snapshots.Get(ctx, c, snap.ID).Extract(); s.Status != "error_deleting" {
			t.Errorf("forced: snapshot %s, want error_deleting", s.Status)
		}
		kiln("volume", "delete", "-cascade", parent.ID)
		if v, _ := volumes.Get(ctx, c, parent.ID).Extract(); v.Status != "error_deleting" || !exists("volumes/"+parent.ID) {
			t.Errorf("cascade: volume %s, file there: %v; want error_deleting, the file kept", v.Status, exists("volumes/"+parent.ID))
		}
		if s, _ := snapshots.Get(ctx, c, child.ID).Extract(); s.Status != "error_deleting" || !exists("snapshots/"+child.ID) {
			t.Errorf("cascade: snapshot %s, file there: %v; want error_deleting, the file kept", s.Status, exists("snapshots/"+child.ID))
		}
		if got := usage(); got != before {
			t.Errorf("usage %v after the failed cascade, want %v", got, before)
		}
		immutable(t, filepath.Join(pool, "snapshots"), false)
	})

	t.Run("books", func(t *testing.T) {
		noneTransient(t, c)
		// Lift everything and clean up as an admin would: snapshots first.
		sp, err := snapshots.ListDetail(c, snapshots.ListOpts{}).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		snaps, _ := snapshots.ExtractSnapshots(sp)
		for _, s := range snaps {
			kiln("snapshot", "force-delete", s.ID)
		}
		pages, err := volumes.List(c, volumes.ListOpts{}).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		vols, _ := volumes.ExtractVolumes(pages)
		for _, v := range vols {
			kiln("volume", "delete", "-force", v.ID)
		}
		if got := usage(); got != [3]int{} {
			t.Errorf("usage %v after deleting everything, want none", got)
		}
		for _, dir := range []string{"volumes", "snapshots"} {
			if left, _ := os.ReadDir(filepath.Join(pool, dir)); len(left) != 0 {
				t.Errorf("%s left in the pool: %v", dir, left)
			}
		}
		if out := kiln("quota", "check", "-config", cfg); !strings.Contains(out, "no difference") {
			t.Errorf("kiln quota check: %s", out)
		}
		if _, err := volumes.Get(ctx, c, vol.ID).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
			t.Errorf("volume %s after the forced delete: %v", vol.ID, err)
		}
	})
}

// settledNot waits until the volume has left status.
func settledNot(t *testing.T, c *gophercloud.ServiceClient, id, status string) *volumes.Volume {
	t.Helper()
	var v *volumes.Volume
	waitFor(t, "volume "+id+" to leave "+status, func() bool {
		got, err := volumes.Get(context.Background(), c, id).Extract()
		v = got
		return err == nil && got.Status != status
	})
	return v
}
