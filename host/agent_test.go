package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// drivers builds the fake and file drivers into a directory on PATH.
func drivers(t testing.TB) {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"fake", "file"} {
		out, err := exec.Command("go", "build", "-o", filepath.Join(dir, "kiln-driver-"+d),
			"github.com/kilnstorage/kiln/plugins/"+d).CombinedOutput()
		if err != nil {
			t.Fatalf("go build %s: %v\n%s", d, err, out)
		}
	}
	t.Setenv("PATH", dir+":"+os.Getenv("PATH"))
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestAgentDev starts `kiln agent -dev` in process and waits for both backends' pools.
func TestAgentDev(t *testing.T) {
	drivers(t)
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- agentCommand(ctx, []string{"-dev", "-listen", addr, "-data-dir", t.TempDir()}, io.Discard)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		n := poolCount(addr)
		if n == 3 {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("get_pools shows %d pools after 30 s, want fake's 2 and file's 1 (agent: %v)", n, <-done)
		}
		time.Sleep(100 * time.Millisecond)
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/metrics: %v", err)
	}
	resp.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("agent: %v", err)
	}
}

func poolCount(addr string) int {
	req, _ := http.NewRequest("GET", "http://"+addr+"/v3/admin/scheduler-stats/get_pools", nil)
	req.Header.Set("X-Auth-Token", "admin:admin")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var body struct{ Pools []any }
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return len(body.Pools)
}

func TestAgentConfigChoices(t *testing.T) {
	if _, err := loadAgentConfig("x.hcl", true, "", t.TempDir()); err == nil {
		t.Error("-dev with -config was accepted")
	}
	if _, err := loadAgentConfig("", false, "", ""); err == nil {
		t.Error("no -config and no -dev was accepted")
	}
}
