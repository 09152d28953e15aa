package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/noauth"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/schedulerstats"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumetypes"
)

// e2eConfig has three fake backends: "bad" is the largest, so the scheduler tries it first,
// and every create on it fails with NoSpace; "good" works; "gold" works and has its own type.
const e2eConfig = `
listen   = %q
data_dir = %q
auth {
  mode = "noauth"
}
backend "bad" {
  driver = "fake"
  config {
    state_dir = %q
    pool {
      name  = "big"
      total = "10TiB"
    }
    failure {
      op   = "create_volume"
      code = "NoSpace"
    }
  }
}
backend "good" {
  driver = "fake"
  config {
    state_dir = %q
    pool {
      name  = "a"
      total = "100GiB"
    }
  }
}
`

// kiln builds kiln and the drivers side by side, starts `kiln agent -config`, and returns a
// gophercloud block-storage client in noauth mode for project p and the agent's address.
func kiln(t *testing.T) (*gophercloud.ServiceClient, string, string) {
	t.Helper()
	c, addr, bin, _ := startAgent(t, 2, func(data, addr string) string {
		return fmt.Sprintf(e2eConfig, addr, data, filepath.Join(data, "bad"), filepath.Join(data, "good"))
	}, "fake")
	return c, addr, bin
}

// kilnWith runs the agent, with the fake and file drivers, on the configuration config returns
// for its address and data directory, once pools pools are reported; it also returns the
// configuration file.
func kilnWith(t *testing.T, pools int, config func(addr, data string) string) (*gophercloud.ServiceClient, string, string, string) {
	t.Helper()
	return startAgent(t, pools, func(data, addr string) string { return config(addr, data) }, "fake", "file")
}

// startAgent builds kiln and the named drivers into one directory, starts `kiln agent` with the
// configuration config makes for its data directory and address, waits for pools pools, and
// returns a gophercloud block-storage client in noauth mode for project p, the agent's
// address, the binaries' directory and the configuration file.
func startAgent(t *testing.T, pools int, config func(data, addr string) string, drivers ...string) (*gophercloud.ServiceClient, string, string, string) {
	t.Helper()
	bin := t.TempDir()
	pkgs := map[string]string{".": "kiln"}
	for _, d := range drivers {
		pkgs["../plugins/"+d] = "kiln-driver-" + d
	}
	for pkg, name := range pkgs {
		if out, err := exec.Command("go", "build", "-o", filepath.Join(bin, name), pkg).CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	data, addr := t.TempDir(), freeAddr(t)
	cfg := filepath.Join(data, "kiln.hcl")
	if err := os.WriteFile(cfg, []byte(config(data, addr)), 0o600); err != nil {
		t.Fatal(err)
	}
	launchAgent(t, bin, cfg, filepath.Join(data, "agent.log"), addr, pools)
	provider, _ := noauth.NewClient(gophercloud.AuthOptions{Username: "u", TenantName: "p"})
	client, err := noauth.NewBlockStorageNoAuthV3(provider, noauth.EndpointOpts{CinderEndpoint: "http://" + addr + "/v3"})
	if err != nil {
		t.Fatal(err)
	}
	return client, addr, bin, cfg
}

// launchAgent starts `kiln agent -config cfg` from bin, logging to log, and waits until it
// reports pools pools at addr; the test's end stops it (SIGTERM) and shows the log on failure.
func launchAgent(t *testing.T, bin, cfg, log, addr string, pools int) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, "kiln"), "agent", "-config", cfg)
	f, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		f.Close()
		if t.Failed() {
			out, _ := os.ReadFile(log)
			t.Logf("%s:\n%s", filepath.Base(log), out)
		}
	})
	waitFor(t, fmt.Sprintf("%d pools", pools), func() bool { return poolCount(addr) == pools })
	return cmd
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func settled(t *testing.T, c *gophercloud.ServiceClient, id string) *volumes.Volume {
	t.Helper()
	var v *volumes.Volume
	waitFor(t, "volume "+id+" to settle", func() bool {
		got, err := volumes.Get(context.Background(), c, id).Extract()
		v = got
		return err == nil && got.Status != "creating"
	})
	return v
}

func TestEndToEnd(t *testing.T) {
	c, addr, bin := kiln(t)
	ctx := context.Background()

	// A create fails with NoSpace on "bad", is rescheduled and lands on "good".
	v, err := volumes.Create(ctx, c, volumes.CreateOpts{Size: 1, Name: "e2e"}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	v = settled(t, c, v.ID)
	if v.Status != "available" || v.Host != "good#a" {
		t.Fatalf("volume: status %s on %s, want available on good#a", v.Status, v.Host)
	}
	raw := rawVolume(t, addr, v.ID)
	if !strings.Contains(raw, `"os-vol-kiln-attr:attempts":2`) || !strings.Contains(raw, "bad#big") {
		t.Errorf("attempts not recorded: %s", raw)
	}

	// A type that only "bad" matches: every pool fails, the volume ends in error, attempts kept.
	vt, err := volumetypes.Create(ctx, c, volumetypes.CreateOpts{Name: "badonly",
		ExtraSpecs: map[string]string{"volume_backend_name": "bad"}}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	v, err = volumes.Create(ctx, c, volumes.CreateOpts{Size: 1, VolumeType: vt.Name}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if v = settled(t, c, v.ID); v.Status != "error" {
		t.Errorf("a volume only a failing pool may hold: %s, want error", v.Status)
	}
	if raw := rawVolume(t, addr, v.ID); !strings.Contains(raw, `"os-vol-kiln-attr:attempts":1`) || !strings.Contains(raw, "NoSpace") {
		t.Errorf("failed volume: %s", raw)
	}

	// Over quota: 413 overLimit.
	two := 2 // the available volume and the one in error count, as in Cinder
	if _, err := quotasets.Update(ctx, c, "p", quotasets.UpdateOpts{Volumes: &two}).Extract(); err != nil {
		t.Fatal(err)
	}
	_, err = volumes.Create(ctx, c, volumes.CreateOpts{Size: 1}, nil).Extract()
	if !gophercloud.ResponseCodeIs(err, http.StatusRequestEntityTooLarge) || !strings.Contains(err.Error(), "overLimit") {
		t.Errorf("create over quota: %v, want 413 overLimit", err)
	}

	ten := 10
	if _, err := quotasets.Update(ctx, c, "p", quotasets.UpdateOpts{Volumes: &ten}).Extract(); err != nil {
		t.Fatal(err)
	}

	// get_pools shows every pool.
	pages, err := schedulerstats.List(c, schedulerstats.ListOpts{Detail: true}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pools, _ := schedulerstats.ExtractStoragePools(pages)
	if len(pools) != 2 {
		t.Errorf("get_pools: %d pools, want 2", len(pools))
	}

	// Metrics show every one of the 13 tasks.
	metrics := get(t, "http://"+addr+"/metrics")
	for _, task := range []string{"ExtractVolumeRequestTask", "QuotaReserveTask", "EntryCreateTask",
		"QuotaCommitTask", "VolumeCastTask", "ExtractSchedulerSpecTask", "ScheduleCreateVolumeTask",
		"ExtractVolumeRefTask", "OnFailureRescheduleTask", "ExtractVolumeSpecTask",
		"NotifyVolumeActionTask", "CreateVolumeFromSpecTask", "CreateVolumeOnFinishTask"} {
		if !strings.Contains(metrics, `task="`+task+`"`) {
			t.Errorf("metrics have no series for task %s", task)
		}
	}

	// Killing a driver process gets it restarted.
	pid := driverPID(t, filepath.Join(bin, "kiln-driver-fake"))
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a driver restart", func() bool {
		m := get(t, "http://"+addr+"/metrics")
		return strings.Contains(m, "kiln_driver_restarts_total") &&
			strings.Contains(m, `kiln_backend_up{backend="bad"} 1`) && strings.Contains(m, `kiln_backend_up{backend="good"} 1`)
	})
	v, err = volumes.Create(ctx, c, volumes.CreateOpts{Size: 1}, nil).Extract()
	if err == nil {
		v = settled(t, c, v.ID)
	}
	if err != nil || v.Status != "available" {
		t.Errorf("a create after the restart: %v, %v", v, err)
	}
}

// TestEndToEnd_cli drives the agent with the kiln client commands.
// runKiln runs the kiln client command in bin against the agent at addr as u:p (noauth).
func runKiln(bin, addr string, args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(bin, "kiln"), args...)
	cmd.Env = append(os.Environ(), "KILN_ENDPOINT=http://"+addr+"/v3", "KILN_TOKEN=u:p")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// mustKiln is runKiln failing the test when the command does.
func mustKiln(t *testing.T, bin, addr string, args ...string) string {
	t.Helper()
	out, err := runKiln(bin, addr, args...)
	if err != nil {
		t.Fatalf("kiln %v: %v\n%s", args, err, out)
	}
	return out
}

func TestEndToEnd_cli(t *testing.T) {
	_, addr, bin := kiln(t)
	run := func(args ...string) string { t.Helper(); return mustKiln(t, bin, addr, args...) }
	run("type", "create", "gold", "volume_backend_name=good")
	out := run("volume", "create", "-name", "cli", "-size", "2", "-type", "gold", "-format", "json")
	if !strings.Contains(out, `"name": "cli"`) || !strings.Contains(out, `"size": 2`) {
		t.Errorf("volume create: %s", out)
	}
	for args, want := range map[string]string{
		"volume list":  "cli",
		"type list":    "gold",
		"pool list":    "good#a",
		"service list": "kiln-volume",
		"quota show":   "gigabytes",
	} {
		if out := run(strings.Fields(args)...); !strings.Contains(out, want) {
			t.Errorf("kiln %s: %q does not contain %q", args, out, want)
		}
	}
	var created []map[string]any
	if err := json.Unmarshal([]byte(out), &created); err != nil || len(created) != 1 {
		t.Fatalf("volume create output: %q", out)
	}
	id := created[0]["id"].(string)
	waitFor(t, "the cli volume", func() bool { return strings.Contains(run("volume", "show", id), "available") })
	run("volume", "delete", id)
	if out, err := runKiln(bin, addr, "volume", "show", "no-such-volume"); err == nil || !strings.Contains(out, "404") {
		t.Errorf("volume show of a missing volume: %v %s", err, out)
	}
}

func rawVolume(t *testing.T, addr, id string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+addr+"/v3/p/volumes/"+id, nil)
	req.Header.Set("X-Auth-Token", "u:p")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// driverPID finds a running process of the driver binary at path.
func driverPID(t *testing.T, path string) int {
	t.Helper()
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if exe, err := os.Readlink("/proc/" + e.Name() + "/exe"); err == nil && exe == path {
			return pid
		}
	}
	t.Fatal(errors.New("no driver process found"))
	return 0
}
