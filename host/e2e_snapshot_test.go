package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/snapshots"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumetypes"

	"github.com/kilnstorage/kiln/sdk/fake"
)

// snapshotConfig has a fake backend and a file backend that work, and a fake backend "flaky"
// whose first snapshot create fails, whose every third snapshot delete fails, and on which
// every restore from a snapshot and every clone fails.
const snapshotConfig = `
listen   = %q
data_dir = %q
auth {
  mode = "noauth"
}
backend "fake" {
  driver = "fake"
  config {
    state_dir = %q
    pool {
      name  = "f"
      total = "100GiB"
    }
  }
}
backend "file" {
  driver = "file"
  config {
    pool {
      name = "d"
      path = %q
    }
  }
}
backend "flaky" {
  driver = "fake"
  config {
    state_dir = %q
    pool {
      name  = "x"
      total = "100GiB"
    }
    failure {
      op   = "create_snapshot"
      mode = "once"
    }
    failure {
      op    = "delete_snapshot"
      mode  = "every"
      every = 3
    }
    failure {
      op = "create_volume_from_snapshot"
    }
    failure {
      op = "clone_volume"
    }
  }
}
`

// snapshotAgent starts the agent with snapshotConfig and returns the client, the directory of
// each backend's objects, and a function that runs the kiln client command.
func snapshotAgent(t *testing.T) (*gophercloud.ServiceClient, map[string]string, func(...string) (string, error)) {
	t.Helper()
	dirs := map[string]string{}
	c, addr, bin, cfg := startAgent(t, 3, func(data, addr string) string {
		for _, be := range []string{"fake", "file", "flaky"} {
			dirs[be] = filepath.Join(data, be)
			if err := os.MkdirAll(dirs[be], 0o700); err != nil {
				t.Fatal(err)
			}
		}
		return fmt.Sprintf(snapshotConfig, addr, data, dirs["fake"], dirs["file"], dirs["flaky"])
	}, "fake", "file")
	for _, be := range []string{"fake", "file", "flaky"} {
		_, err := volumetypes.Create(context.Background(), c, volumetypes.CreateOpts{Name: "on" + be,
			ExtraSpecs: map[string]string{"volume_backend_name": be}}).Extract()
		if err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) (string, error) { return runKiln(bin, addr, args...) }
	// Whatever the test did, the books must balance at its end: usage equal to the rows.
	t.Cleanup(func() {
		if out, err := run("quota", "check", "-config", cfg); err != nil || !strings.Contains(out, "no difference") {
			t.Errorf("kiln quota check at the end: %v\n%s", err, out)
		}
	})
	return c, dirs, run
}

// holds reports whether a backend's directory has an object of that ID: a file named after
// it or a file (such as the fake's state) that mentions it.
func holds(t *testing.T, dir, id string) bool {
	t.Helper()
	found := false
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || found {
			return err
		}
		if strings.Contains(d.Name(), id) { // the file driver names its files by ID
			found = true
			return nil
		}
		if backend, ok := strings.CutSuffix(d.Name(), ".log"); ok && d.Type().IsRegular() {
			// A fake backend's state: <backend>.json and <backend>.log.
			vols, snaps, err := fake.Contents(filepath.Dir(path), backend)
			if err != nil {
				return err
			}
			found = slices.Contains(vols, id) || slices.Contains(snaps, id)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func snapshotSettled(t *testing.T, c *gophercloud.ServiceClient, id string) *snapshots.Snapshot {
	t.Helper()
	var s *snapshots.Snapshot
	waitFor(t, "snapshot "+id+" to settle", func() bool {
		got, err := snapshots.Get(context.Background(), c, id).Extract()
		s = got
		return err == nil && got.Status != "creating"
	})
	return s
}

func usageNow(t *testing.T, c *gophercloud.ServiceClient) quotasets.QuotaUsageSet {
	t.Helper()
	u, err := quotasets.GetUsage(context.Background(), c, "p").Extract()
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// noneTransient fails if a volume or snapshot is still creating or deleting.
func noneTransient(t *testing.T, c *gophercloud.ServiceClient) {
	t.Helper()
	ctx := context.Background()
	vp, err := volumes.List(c, volumes.ListOpts{}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	vols, _ := volumes.ExtractVolumes(vp)
	sp, err := snapshots.ListDetail(c, snapshots.ListOpts{}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	snaps, _ := snapshots.ExtractSnapshots(sp)
	for _, v := range vols {
		if v.Status == "creating" || v.Status == "deleting" {
			t.Errorf("volume %s is %s", v.ID, v.Status)
		}
	}
	for _, s := range snaps {
		if s.Status == "creating" || s.Status == "deleting" {
			t.Errorf("snapshot %s is %s", s.ID, s.Status)
		}
	}
}

func mustVolume(t *testing.T, c *gophercloud.ServiceClient, opts volumes.CreateOpts) *volumes.Volume {
	t.Helper()
	v, err := volumes.Create(context.Background(), c, opts, nil).Extract()
	if err != nil {
		t.Fatalf("create volume %+v: %v", opts, err)
	}
	return settled(t, c, v.ID)
}

func mustSnapshot(t *testing.T, c *gophercloud.ServiceClient, opts snapshots.CreateOpts) *snapshots.Snapshot {
	t.Helper()
	s, err := snapshots.Create(context.Background(), c, opts).Extract()
	if err != nil {
		t.Fatalf("create snapshot %+v: %v", opts, err)
	}
	if s.Status != "creating" {
		t.Errorf("snapshot create answered %s, want creating", s.Status)
	}
	return snapshotSettled(t, c, s.ID)
}

// TestEndToEnd_snapshots drives snapshots, restores and clones on the fake and the file
// drivers through gophercloud: every object reaches available, the backend holds it, and once
// everything is deleted the backend holds nothing and the quota usage is as it was.
func TestEndToEnd_snapshots(t *testing.T) {
	c, dirs, _ := snapshotAgent(t)
	ctx := context.Background()
	for _, be := range []string{"fake", "file"} {
		t.Run(be, func(t *testing.T) {
			before := usageNow(t, c)
			v := mustVolume(t, c, volumes.CreateOpts{Size: 1, VolumeType: "on" + be})
			s := mustSnapshot(t, c, snapshots.CreateOpts{VolumeID: v.ID, Name: "s1", Metadata: map[string]string{"k": "v"}})
			if s.Status != "available" || s.Size != 1 || s.VolumeID != v.ID || !holds(t, dirs[be], s.ID) {
				t.Fatalf("snapshot: %+v, on the backend %v", s, holds(t, dirs[be], s.ID))
			}
			name := "s2"
			if got, err := snapshots.Update(ctx, c, s.ID, snapshots.UpdateOpts{Name: &name}).Extract(); err != nil || got.Name != "s2" {
				t.Errorf("update: %+v, %v", got, err)
			}
			pages, err := snapshots.ListDetail(c, snapshots.ListOpts{VolumeID: v.ID}).AllPages(ctx)
			if list, _ := snapshots.ExtractSnapshots(pages); err != nil || len(list) != 1 || list[0].Name != "s2" ||
				!cmp.Equal(list[0].Metadata, map[string]string{"k": "v"}) {
				t.Errorf("list: %+v, %v", list, err)
			}
			r := mustVolume(t, c, volumes.CreateOpts{SnapshotID: s.ID})
			cl := mustVolume(t, c, volumes.CreateOpts{SourceVolID: v.ID, Size: 2})
			if r.Status != "available" || r.Size != 1 || r.SnapshotID != s.ID || r.VolumeType != "on"+be {
				t.Errorf("from the snapshot: %+v", r)
			}
			if cl.Status != "available" || cl.Size != 2 || cl.SourceVolID != v.ID {
				t.Errorf("clone: %+v", cl)
			}
			for _, id := range []string{r.ID, cl.ID} {
				if !holds(t, dirs[be], id) {
					t.Errorf("the backend lacks volume %s", id)
				}
			}
			// The volume has a snapshot: refused.
			if err := volumes.Delete(ctx, c, v.ID, volumes.DeleteOpts{}).ExtractErr(); !gophercloud.ResponseCodeIs(err, 400) {
				t.Errorf("delete of a volume with a snapshot: %v", err)
			}
			for _, del := range []func() error{
				func() error { return volumes.Delete(ctx, c, r.ID, volumes.DeleteOpts{}).ExtractErr() },
				func() error { return volumes.Delete(ctx, c, cl.ID, volumes.DeleteOpts{}).ExtractErr() },
				func() error { return snapshots.Delete(ctx, c, s.ID).ExtractErr() },
				func() error { return volumes.Delete(ctx, c, v.ID, volumes.DeleteOpts{}).ExtractErr() },
			} {
				if err := del(); err != nil {
					t.Fatal(err)
				}
			}
			for _, id := range []string{v.ID, s.ID, r.ID, cl.ID} {
				if holds(t, dirs[be], id) {
					t.Errorf("the backend still holds %s", id)
				}
			}
			if got := usageNow(t, c); !cmp.Equal(got, before) {
				t.Errorf("usage %+v, want %+v", got, before)
			}
			noneTransient(t, c)
		})
	}
}

// TestEndToEnd_snapshotFailures forces a driver failure of each operation on "flaky" and checks
// its revert: the new object ends in error (a failed snapshot delete in error_deleting), its
// source keeps its status, the backend holds nothing of a failed create, nothing is left
// creating or deleting, and the quota usage comes back once the failed object is deleted.
func TestEndToEnd_snapshotFailures(t *testing.T) {
	c, dirs, _ := snapshotAgent(t)
	ctx := context.Background()
	dir := dirs["flaky"]
	v := mustVolume(t, c, volumes.CreateOpts{Size: 1, VolumeType: "onflaky"})
	before := usageNow(t, c)
	sourceAvailable := func() {
		t.Helper()
		if got, err := volumes.Get(ctx, c, v.ID).Extract(); err != nil || got.Status != "available" {
			t.Errorf("source volume: %+v, %v", got, err)
		}
	}

	// The snapshot create fails: error, nothing on the backend; its delete gives the quota back.
	s1 := mustSnapshot(t, c, snapshots.CreateOpts{VolumeID: v.ID})
	if s1.Status != "error" || holds(t, dir, s1.ID) {
		t.Errorf("failed snapshot: %s, on the backend %v", s1.Status, holds(t, dir, s1.ID))
	}
	sourceAvailable()
	noneTransient(t, c)
	if err := snapshots.Delete(ctx, c, s1.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if got := usageNow(t, c); !cmp.Equal(got, before) {
		t.Errorf("usage after the failed snapshot's delete: %+v, want %+v", got, before)
	}

	// The second snapshot works; restoring it and cloning the volume fail.
	s2 := mustSnapshot(t, c, snapshots.CreateOpts{VolumeID: v.ID})
	if s2.Status != "available" {
		t.Fatalf("second snapshot: %s", s2.Status)
	}
	withSnapshot := usageNow(t, c)
	for name, opts := range map[string]volumes.CreateOpts{
		"restore": {SnapshotID: s2.ID},
		"clone":   {SourceVolID: v.ID},
	} {
		nv := mustVolume(t, c, opts)
		if nv.Status != "error" || holds(t, dir, nv.ID) {
			t.Errorf("%s: %s, on the backend %v", name, nv.Status, holds(t, dir, nv.ID))
		}
		if got, err := snapshots.Get(ctx, c, s2.ID).Extract(); err != nil || got.Status != "available" {
			t.Errorf("%s: source snapshot %+v, %v", name, got, err)
		}
		sourceAvailable()
		noneTransient(t, c)
		if err := volumes.Delete(ctx, c, nv.ID, volumes.DeleteOpts{}).ExtractErr(); err != nil {
			t.Fatal(err)
		}
		if got := usageNow(t, c); !cmp.Equal(got, withSnapshot) {
			t.Errorf("%s: usage after the failed volume's delete: %+v, want %+v", name, got, withSnapshot)
		}
	}

	// The snapshot delete fails: error_deleting, still on the backend, quota still counted.
	if err := snapshots.Delete(ctx, c, s2.ID).ExtractErr(); err != nil {
		t.Fatalf("delete answered %v, want 202 (the failure shows in the status)", err)
	}
	if got, err := snapshots.Get(ctx, c, s2.ID).Extract(); err != nil || got.Status != "error_deleting" || !holds(t, dir, s2.ID) {
		t.Errorf("after a failed delete: %+v, %v", got, err)
	}
	if got := usageNow(t, c); !cmp.Equal(got, withSnapshot) {
		t.Errorf("usage after a failed delete: %+v, want %+v", got, withSnapshot)
	}
	sourceAvailable()
	noneTransient(t, c)
}

// TestEndToEnd_snapshotCLI drives snapshots, a restore and a clone with the kiln client.
func TestEndToEnd_snapshotCLI(t *testing.T) {
	c, _, kiln := snapshotAgent(t)
	run := func(args ...string) string {
		t.Helper()
		out, err := kiln(args...)
		if err != nil {
			t.Fatalf("kiln %v: %v\n%s", args, err, out)
		}
		return out
	}
	id := func(out string) string {
		t.Helper()
		var rows []map[string]any
		if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 1 {
			t.Fatalf("output %q: %v", out, err)
		}
		return rows[0]["id"].(string)
	}
	wait := func(args ...string) {
		t.Helper()
		waitFor(t, strings.Join(args, " ")+" available", func() bool {
			out, _ := kiln(args...)
			return strings.Contains(out, "available")
		})
	}
	vol := id(run("volume", "create", "-type", "onfile", "-format", "json"))
	wait("volume", "show", vol)
	snap := id(run("snapshot", "create", "-name", "cli-snap", "-format", "json", vol))
	wait("snapshot", "show", snap)
	if out := run("snapshot", "list"); !strings.Contains(out, "cli-snap") || !strings.Contains(out, vol) {
		t.Errorf("snapshot list: %s", out)
	}
	restored := id(run("volume", "create", "-snapshot", snap, "-format", "json"))
	clone := id(run("volume", "create", "-source-volume", vol, "-size", "2", "-format", "json"))
	wait("volume", "show", restored)
	wait("volume", "show", clone)
	if out := run("volume", "show", "-format", "json", restored); !strings.Contains(out, `"source": "`+snap+`"`) {
		t.Errorf("restored volume: %s", out)
	}
	if out, err := kiln("snapshot", "create", "-force=maybe", vol); err == nil {
		t.Errorf("a bad -force was accepted: %s", out)
	}
	// Updates change only what is given.
	if out := run("snapshot", "update", "-description", "kept", "-format", "json", snap); !strings.Contains(out, `"name": "cli-snap"`) {
		t.Errorf("snapshot update -description: %s", out)
	}
	if out := run("snapshot", "update", "-name", "renamed", "-format", "json", snap); !strings.Contains(out, `"name": "renamed"`) {
		t.Errorf("snapshot update -name: %s", out)
	}
	if got, err := snapshots.Get(context.Background(), c, snap).Extract(); err != nil || got.Description != "kept" || got.Name != "renamed" {
		t.Errorf("snapshot after the updates: %+v, %v", got, err)
	}
	if out := run("volume", "update", "-name", "cli-vol", "-format", "json", vol); !strings.Contains(out, `"name": "cli-vol"`) {
		t.Errorf("volume update: %s", out)
	}
	for _, args := range [][]string{{"volume", "delete", restored}, {"volume", "delete", clone},
		{"snapshot", "delete", snap}, {"volume", "delete", vol}} {
		run(args...)
	}
	if out, err := kiln("snapshot", "show", snap); err == nil || !strings.Contains(out, "404") {
		t.Errorf("snapshot show after delete: %v %s", err, out)
	}
}
