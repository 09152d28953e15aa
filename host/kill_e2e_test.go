package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/noauth"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"

	"github.com/kilnstorage/kiln/sdk/fake"
)

// killConfig is one fake backend whose creates and deletes take a while, so that a kill finds
// flows in every stage.
const killConfig = `
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
      name  = "a"
      total = "1PiB"
    }
    latency = {
      create_volume = "20ms"
      delete_volume = "20ms"
    }
  }
}
`

// TestEndToEnd_agentKilled kills the agent with SIGKILL while creates are in flight, in every
// stage of their flows, and starts it again on the same database: every volume the API
// accepted (and any whose answer the kill swallowed) ends available, none is left creating,
// the driver holds exactly the available ones, and the quota books balance.
func TestEndToEnd_agentKilled(t *testing.T) {
	bin := t.TempDir()
	for pkg, name := range map[string]string{".": "kiln", "../plugins/fake": "kiln-driver-fake"} {
		if out, err := exec.Command("go", "build", "-o", filepath.Join(bin, name), pkg).CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	data, addr := t.TempDir(), freeAddr(t)
	cfg := filepath.Join(data, "kiln.hcl")
	state := filepath.Join(data, "fake")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(killConfig, addr, data, state)), 0o600); err != nil {
		t.Fatal(err)
	}
	start := func(log string) *exec.Cmd { return launchAgent(t, bin, cfg, filepath.Join(data, log), addr, 1) }
	provider, _ := noauth.NewClient(gophercloud.AuthOptions{Username: "u", TenantName: "p"})
	c, err := noauth.NewBlockStorageNoAuthV3(provider, noauth.EndpointOpts{CinderEndpoint: "http://" + addr + "/v3"})
	if err != nil {
		t.Fatal(err)
	}

	first := start("agent-1.log")
	unlimited := -1
	if _, err := quotasets.Update(context.Background(), c, "p", quotasets.UpdateOpts{Volumes: &unlimited,
		Gigabytes: &unlimited}).Extract(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var accepted []string
	var wg sync.WaitGroup
	killed := make(chan struct{})
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-killed:
					return
				default:
				}
				v, err := volumes.Create(context.Background(), c, volumes.CreateOpts{Size: 1}, nil).Extract()
				if err != nil {
					return // the agent is gone
				}
				mu.Lock()
				accepted = append(accepted, v.ID)
				mu.Unlock()
			}
		})
	}
	waitFor(t, "creates under way", func() bool { mu.Lock(); defer mu.Unlock(); return len(accepted) >= 40 })
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	close(killed)
	_ = first.Wait()
	wg.Wait()
	// The driver process notices its parent died and exits; the new agent starts its own.
	second := start("agent-2.log")

	pages, err := volumes.List(c, volumes.ListOpts{}).AllPages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	all, _ := volumes.ExtractVolumes(pages)
	listed := map[string]bool{}
	for _, v := range all {
		listed[v.ID] = true
	}
	for _, id := range accepted {
		if !listed[id] {
			t.Errorf("volume %s was accepted (202) and is gone after the restart", id)
		}
	}
	for _, v := range all {
		if got := settled(t, c, v.ID); got.Status != "available" {
			t.Errorf("volume %s ended %s after the restart", v.ID, got.Status)
		}
	}
	t.Logf("%d volumes accepted before the kill, %d listed after the restart, all available; %s",
		len(accepted), len(all), recoveredFlows(t, filepath.Join(data, "agent-2.log")))
	out, err := runKiln(bin, addr, "quota", "check", "-config", cfg)
	if err != nil || !strings.Contains(out, "no difference") {
		t.Errorf("kiln quota check after the restart: %v\n%s", err, out)
	}
	vols, snaps, err := fake.Contents(state, "fake")
	if err != nil || len(vols) != len(all) || len(snaps) != 0 {
		t.Errorf("the driver holds %d volumes (%v), the API lists %d", len(vols), err, len(all))
	}

	// Now deletes: kill the agent half-way through deleting everything, start it again, and
	// delete what is left. Nothing may stay deleting, and everything must go.
	work := make(chan string, len(all))
	for _, v := range all {
		work <- v.ID
	}
	close(work)
	var deleted sync.WaitGroup
	var gone int
	for range 8 {
		deleted.Go(func() {
			for id := range work {
				if volumes.Delete(context.Background(), c, id, nil).ExtractErr() != nil {
					return
				}
				mu.Lock()
				gone++
				mu.Unlock()
			}
		})
	}
	waitFor(t, "deletes under way", func() bool { mu.Lock(); defer mu.Unlock(); return gone >= len(all)/3 })
	if err := second.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = second.Wait()
	deleted.Wait()
	start("agent-3.log")
	t.Logf("deletes: %d answered before the kill; %s", gone, recoveredFlows(t, filepath.Join(data, "agent-3.log")))
	waitFor(t, "the recovered deletes", func() bool {
		pages, err := volumes.List(c, volumes.ListOpts{}).AllPages(context.Background())
		if err != nil {
			return false
		}
		left, _ := volumes.ExtractVolumes(pages)
		for _, v := range left {
			switch v.Status {
			case "deleting":
				return false
			case "available":
				if err := volumes.Delete(context.Background(), c, v.ID, nil).ExtractErr(); err != nil {
					t.Errorf("delete of %s after the restart: %v", v.ID, err)
				}
				return false
			default:
				t.Errorf("volume %s is %s after the restart", v.ID, v.Status)
			}
		}
		return len(left) == 0
	})
	vols, _, err = fake.Contents(state, "fake")
	if err != nil || len(vols) != 0 {
		t.Errorf("the driver still holds %d volumes after every delete (%v)", len(vols), err)
	}
	out, err = runKiln(bin, addr, "quota", "check", "-config", cfg)
	if err != nil || !strings.Contains(out, "no difference") {
		t.Errorf("kiln quota check after the deletes: %v\n%s", err, out)
	}
	q, err := quotasets.GetUsage(context.Background(), c, "p").Extract()
	if err != nil || q.Volumes.InUse != 0 || q.Gigabytes.InUse != 0 || q.Volumes.Reserved != 0 {
		t.Errorf("usage after every delete: %+v, %v", q, err)
	}
}

// recoveredFlows returns what the agent logged at path of the flows it recovered at start.
func recoveredFlows(t *testing.T, path string) string {
	t.Helper()
	log, _ := os.ReadFile(path)
	for _, l := range strings.Split(string(log), "\n") {
		if i := strings.Index(l, "recovered unfinished flows"); i >= 0 {
			return l[i:]
		}
	}
	return "no flow recovered"
}
