package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/snapshots"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumetypes"
)

// lifecycleConfig: "fake" works; "flaky" is a fake whose first extend fails (Internal), whose
// first volume delete answers InUse and whose every second one fails (Internal); "files" is
// the file driver on a directory, capped at 20 GiB.
const lifecycleConfig = `
listen   = %[1]q
data_dir = %[2]q
auth {
  mode = "noauth"
}
backend "fake" {
  driver = "fake"
  config {
    state_dir = "%[2]s/fake"
    pool {
      name  = "a"
      total = "100GiB"
    }
  }
}
backend "flaky" {
  driver = "fake"
  config {
    state_dir = "%[2]s/flaky"
    pool {
      name  = "a"
      total = "100GiB"
    }
    failure {
      op   = "extend_volume"
      code = "Internal"
      mode = "once"
    }
    failure {
      op   = "delete_volume"
      code = "InUse"
      mode = "once"
    }
    failure {
      op    = "delete_volume"
      code  = "Internal"
      mode  = "every"
      every = 2
    }
  }
}
backend "files" {
  driver = "file"
  config {
    pool {
      name     = "p"
      path     = "%[3]s"
      capacity = "20GiB"
    }
  }
}
`

// lifecycle drives one agent through extend, delete, reset-status and force-delete.
type lifecycle struct {
	t        *testing.T
	c        *gophercloud.ServiceClient
	addr     string
	bin, cfg string
	files    string // the file pool's directory
	// created is when the last create began: a report after it shows the new volume.
	created time.Time
}

func (l *lifecycle) kiln(args ...string) (string, error) { return runKiln(l.bin, l.addr, args...) }

func (l *lifecycle) mustKiln(args ...string) string {
	l.t.Helper()
	out, err := l.kiln(args...)
	if err != nil {
		l.t.Fatalf("kiln %v: %v\n%s", args, err, out)
	}
	return out
}

// create makes an available volume of size GiB of type typ.
func (l *lifecycle) create(typ string, size int) string {
	l.t.Helper()
	l.created = time.Now()
	v, err := volumes.Create(context.Background(), l.c, volumes.CreateOpts{Size: size, VolumeType: typ}, nil).Extract()
	if err != nil {
		l.t.Fatal(err)
	}
	if v = settled(l.t, l.c, v.ID); v.Status != "available" {
		l.t.Fatalf("volume of type %s: %s", typ, v.Status)
	}
	return v.ID
}

func (l *lifecycle) volume(id string) *volumes.Volume {
	l.t.Helper()
	v, err := volumes.Get(context.Background(), l.c, id).Extract()
	if err != nil {
		l.t.Fatalf("volume %s: %v", id, err)
	}
	return v
}

func (l *lifecycle) expect(id, status string, size int) {
	l.t.Helper()
	if v := l.volume(id); v.Status != status || v.Size != size {
		l.t.Errorf("volume %s: %s at %d GiB, want %s at %d GiB", id, v.Status, v.Size, status, size)
	}
}

func (l *lifecycle) gone(id string) {
	l.t.Helper()
	if _, err := volumes.Get(context.Background(), l.c, id).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		l.t.Errorf("volume %s: %v, want 404", id, err)
	}
}

// usage is the project's in-use gigabytes, volumes and snapshots; it fails on anything
// reserved.
func (l *lifecycle) usage() [3]int {
	l.t.Helper()
	q, err := quotasets.GetUsage(context.Background(), l.c, "p").Extract()
	if err != nil {
		l.t.Fatal(err)
	}
	if q.Gigabytes.Reserved+q.Volumes.Reserved+q.Snapshots.Reserved != 0 {
		l.t.Errorf("reserved quota left: %+v", q)
	}
	return [3]int{q.Gigabytes.InUse, q.Volumes.InUse, q.Snapshots.InUse}
}

func (l *lifecycle) expectUsage(want [3]int) {
	l.t.Helper()
	if got := l.usage(); got != want {
		l.t.Errorf("usage (gigabytes, volumes, snapshots) = %v, want %v", got, want)
	}
}

// pool returns the pool's free GiB and report time from get_pools.
func (l *lifecycle) pool(name string) (float64, string) {
	req, _ := http.NewRequest("GET", "http://"+l.addr+"/v3/p/scheduler-stats/get_pools?detail=true", nil)
	req.Header.Set("X-Auth-Token", "u:p")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		l.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Pools []struct {
			Name         string
			Capabilities struct {
				Free      any    `json:"free_capacity_gb"`
				Timestamp string `json:"timestamp"`
			}
		}
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	for _, p := range body.Pools {
		if p.Name == name {
			f, _ := p.Capabilities.Free.(float64)
			return f, p.Capabilities.Timestamp
		}
	}
	return -1, ""
}

// backendFree waits for a capacity report of the pool made after since (default now) and
// returns its free GiB: what the driver holds after an operation that began at since.
func (l *lifecycle) backendFree(pool string, since ...time.Time) float64 {
	l.t.Helper()
	after := append(since, time.Now())[0].UTC().Format("2006-01-02T15:04:05.000000")
	var free float64
	waitFor(l.t, "a fresh report of "+pool, func() bool {
		f, ts := l.pool(pool)
		free = f
		return ts > after
	})
	return free
}

func (l *lifecycle) file(id string) (int64, bool) {
	fi, err := os.Stat(filepath.Join(l.files, "volumes", id))
	if err != nil {
		return 0, false
	}
	return fi.Size(), true
}

// addSnapshot snapshots the volume through the API and waits for it to be available.
func (l *lifecycle) addSnapshot(volumeID string) string {
	l.t.Helper()
	return mustSnapshot(l.t, l.c, snapshots.CreateOpts{VolumeID: volumeID}).ID
}

func TestEndToEnd_lifecycle(t *testing.T) {
	files := t.TempDir()
	c, addr, bin, cfg := kilnWith(t, 3, func(addr, data string) string {
		return fmt.Sprintf(lifecycleConfig, addr, data, files)
	})
	l := &lifecycle{t: t, c: c, addr: addr, bin: bin, cfg: cfg, files: files}
	ctx := context.Background()
	for _, b := range []string{"fake", "flaky", "files"} {
		if _, err := volumetypes.Create(ctx, c, volumetypes.CreateOpts{Name: "on" + b,
			ExtraSpecs: map[string]string{"volume_backend_name": b}}).Extract(); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("extend", func(t *testing.T) {
		l.t = t
		for _, typ := range []string{"onfake", "onfiles"} {
			id := l.create(typ, 1)
			base := l.usage()
			out := l.mustKiln("volume", "extend", "-format", "json", id, "3")
			if !strings.Contains(out, `"size": 3`) {
				t.Errorf("kiln volume extend: %s", out)
			}
			l.expect(id, "available", 3)
			l.expectUsage([3]int{base[0] + 2, base[1], base[2]})
			if typ == "onfiles" {
				if size, ok := l.file(id); size != 3<<30 || !ok {
					t.Errorf("the volume's file: %d bytes, want 3 GiB", size)
				}
			}
			// Not growing, and beyond what the pool can hold (no valid backend).
			if out, err := l.kiln("volume", "extend", id, "2"); err == nil || !strings.Contains(out, "must be greater than current size") {
				t.Errorf("extend to a smaller size: %v %s", err, out)
			}
			if err := volumes.ExtendSize(ctx, c, id, volumes.ExtendSizeOpts{NewSize: 900}).ExtractErr(); err != nil {
				t.Errorf("extend beyond the pool: %v, want 202", err)
			}
			l.expect(id, "available", 3)
			l.expectUsage([3]int{base[0] + 2, base[1], base[2]})
			if raw := rawVolume(t, addr, id); !strings.Contains(raw, "CapacityFilter") {
				t.Errorf("no valid backend not explained: %s", raw)
			}
		}
		// The flaky driver fails the first extend: error_extending, nothing moved.
		id := l.create("onflaky", 1)
		before, base := l.backendFree("flaky#a", l.created), l.usage()
		since := time.Now()
		if err := volumes.ExtendSize(ctx, c, id, volumes.ExtendSizeOpts{NewSize: 2}).ExtractErr(); err != nil {
			t.Fatal(err)
		}
		l.expect(id, "error_extending", 1)
		l.expectUsage(base)
		if after := l.backendFree("flaky#a", since); after != before {
			t.Errorf("flaky pool free %v after the failed extend, %v before", after, before)
		}
		err := volumes.ExtendSize(ctx, c, id, volumes.ExtendSizeOpts{NewSize: 2}).ExtractErr()
		if !gophercloud.ResponseCodeIs(err, http.StatusBadRequest) || !strings.Contains(err.Error(), "expected one of: available") {
			t.Errorf("extend of an error_extending volume: %v", err)
		}
		// reset-status lets it be extended again (the knob failed only once).
		l.mustKiln("volume", "reset-status", id, "available")
		if err := volumes.ExtendSize(ctx, c, id, volumes.ExtendSizeOpts{NewSize: 2}).ExtractErr(); err != nil {
			t.Fatal(err)
		}
		l.expect(id, "available", 2)
		l.expectUsage([3]int{base[0] + 1, base[1], base[2]})
	})

	t.Run("delete", func(t *testing.T) {
		l.t = t
		// Flaky: the first delete answers InUse (available again), the second fails
		// (error_deleting), each keeping the quota and the backend object.
		id := l.create("onflaky", 1)
		before, base := l.backendFree("flaky#a", l.created), l.usage()
		for _, want := range []string{"available", "error_deleting"} {
			since := time.Now()
			if err := volumes.Delete(ctx, c, id, nil).ExtractErr(); err != nil {
				t.Fatalf("delete: %v", err)
			}
			l.expect(id, want, 1)
			l.expectUsage(base)
			if after := l.backendFree("flaky#a", since); after != before {
				t.Errorf("flaky pool free %v after a failed delete, %v before", after, before)
			}
		}
		if out, err := l.kiln("volume", "delete", id); err == nil || !strings.Contains(out, "400") {
			t.Errorf("user delete from error_deleting: %v %s", err, out)
		}
		since := time.Now()
		l.mustKiln("volume", "delete", "-force", id)
		l.gone(id)
		l.expectUsage([3]int{base[0] - 1, base[1] - 1, base[2]})
		if after := l.backendFree("flaky#a", since); after != before+1 {
			t.Errorf("flaky pool free %v after the forced delete, want %v", after, before+1)
		}

		// Snapshots: refused without cascade (Cinder's message), deleted with it.
		for _, typ := range []string{"onfake", "onfiles"} {
			id := l.create(typ, 1)
			snap := l.addSnapshot(id)
			base := l.usage()
			err := volumes.Delete(ctx, c, id, nil).ExtractErr()
			if !gophercloud.ResponseCodeIs(err, http.StatusBadRequest) || !strings.Contains(err.Error(), "have snapshots") {
				t.Errorf("delete with a snapshot: %v", err)
			}
			if typ == "onfiles" {
				// An admin may reset and force-delete the snapshot; the rest goes by cascade.
				l.mustKiln("snapshot", "reset-status", snap, "error")
				l.mustKiln("snapshot", "force-delete", snap)
				l.expectUsage([3]int{base[0] - 1, base[1], base[2] - 1})
				l.addSnapshot(id)
				base = l.usage()
			}
			l.mustKiln("volume", "delete", "-cascade", id)
			l.gone(id)
			l.expectUsage([3]int{base[0] - 2, base[1] - 1, base[2] - 1})
			if _, ok := l.file(id); ok {
				t.Errorf("the file of volume %s survived", id)
			}
		}

		// reset-status and force-delete from any status.
		id = l.create("onfiles", 1)
		l.mustKiln("volume", "reset-status", id, "maintenance")
		if out, err := l.kiln("volume", "reset-status", id, "error_deleting"); err == nil || !strings.Contains(out, "400") {
			t.Errorf("reset to error_deleting: %v %s", err, out)
		}
		l.expect(id, "maintenance", 1)
		l.mustKiln("volume", "delete", "-force", id)
		l.gone(id)
		if _, ok := l.file(id); ok {
			t.Errorf("the file of the force-deleted volume %s survived", id)
		}
	})

	t.Run("books", func(t *testing.T) {
		l.t = t
		pages, err := volumes.List(c, volumes.ListOpts{}).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		vols, _ := volumes.ExtractVolumes(pages)
		for _, v := range vols {
			if v.Status != "available" && v.Status != "error" {
				t.Errorf("volume %s left %s", v.ID, v.Status)
			}
		}
		if out := l.mustKiln("quota", "check", "-config", cfg); !strings.Contains(out, "no difference") {
			t.Errorf("kiln quota check: %s", out)
		}
		// The check can fail: usage edited behind the store's back is reported, then fixed.
		db, err := sql.Open("sqlite", filepath.Join(filepath.Dir(cfg), "kiln.db")+"?_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, "UPDATE quota_usages SET in_use = in_use + 5 WHERE project_id = 'p' AND resource = 'gigabytes'"); err != nil {
			t.Fatal(err)
		}
		db.Close()
		out, err := l.kiln("quota", "check", "-config", cfg)
		if err == nil || !strings.Contains(out, "gigabytes") {
			t.Errorf("quota check after tampering: %v %s, want a failure naming gigabytes", err, out)
		}
		l.mustKiln("quota", "check", "-config", cfg, "-fix")
		l.mustKiln("quota", "check", "-config", cfg)
	})
}
