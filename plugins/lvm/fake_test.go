package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

// The unit tests run the driver's flows against replayed lvm2 output: what cannot run on a host
// without device-mapper (thin pools, snapshots, copies, wiping) still has its commands pinned.

// fakeLVM answers lvm2 commands with reply and records them. A non-zero exit goes through
// classify with the given stderr, as the real runner's failures do.
type fakeLVM struct {
	mu    sync.Mutex
	calls [][]string
	reply func(args []string) (stdout, stderr string, exit int)
}

func (f *fakeLVM) run(ctx context.Context, s scope, args ...string) ([]byte, error) {
	f.mu.Lock()
	f.calls = append(f.calls, args)
	f.mu.Unlock()
	out, stderr, exit := f.reply(args)
	if exit != 0 {
		return []byte(out), classify(ctx, s, failure{args: args, exit: exit, stderr: stderr})
	}
	return []byte(out), nil
}

// commands returns each call as "name target", e.g. "lvcreate kiln/kiln-volume-a".
func (f *fakeLVM) commands() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, len(f.calls))
	for i, c := range f.calls {
		out[i] = c[0] + " " + c[len(c)-1]
	}
	return out
}

// fakeDevices records the block-device work instead of doing it.
type fakeDevices struct {
	mu  sync.Mutex
	ops []string
}

func (f *fakeDevices) wipe(_ context.Context, path, mode string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops = append(f.ops, "wipe "+mode+" "+path)
	return nil
}

func (f *fakeDevices) copy(_ context.Context, src, dst string, n int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops = append(f.ops, "copy "+src+" "+dst+" "+itoa(n))
	return nil
}

// testPools are the pools of the replayed VG "kiln" (testdata/*-thin.hand.json).
var testPools = []PoolConfig{
	{Name: "thick", VG: "kiln"},
	{Name: "thin", VG: "kiln", ThinPool: "pool0", MaxOversubscription: 20},
	{Name: "meta", VG: "kiln", ThinPool: "pool1"},
	{Name: "gone", VG: "nothere"},
}

func testDriver(f *fakeLVM, active bool, dev devices) *Driver {
	wipe := "zero"
	if !active {
		wipe = "none"
	}
	return &Driver{log: nopLogger{}, lvm: f, pools: testPools, active: active, wipe: wipe,
		locks: newVGLocks(1), dev: dev}
}

// testRows are the LVs of testdata/lvs-thin.hand.json.
func testRows(t testing.TB) []lvRow {
	t.Helper()
	rows, err := parseLVs(readTestdata(t, "lvs-thin.hand.json"))
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// lvsReply answers `lvs … kiln/NAME` from rows, as lvm2 does: the line, or exit 5 and
// "Failed to find logical volume".
func lvsReply(rows []lvRow, args []string) (string, string, int) {
	target := args[len(args)-1]
	for _, r := range rows {
		if r.VG+"/"+r.Name == target {
			return reportOf(r), "", 0
		}
	}
	return reportOf(), "  Failed to find logical volume \"" + target + "\"\n", 5
}

// reportOf renders rows as an lvs JSON report.
func reportOf(rows ...lvRow) string {
	if rows == nil {
		rows = []lvRow{}
	}
	b, _ := json.Marshal(map[string]any{"report": []any{map[string]any{"lv": rows}}})
	return string(b)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
