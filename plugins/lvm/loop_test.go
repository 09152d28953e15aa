package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The root tests build real volume groups on loop devices. They compile everywhere and skip,
// loudly, where they cannot run: not root, no lvm2, no loop devices.

var loudSkips sync.Map // reasons already printed

// skipLoudly skips t and prints the reason on stderr once, so that a run without -v shows it.
func skipLoudly(t testing.TB, format string, args ...any) {
	t.Helper()
	why := fmt.Sprintf(format, args...)
	if _, seen := loudSkips.LoadOrStore(why, true); !seen {
		fmt.Fprintf(os.Stderr, "plugins/lvm: SKIPPING the root/LVM tests: %s\n", why)
	}
	t.Skip("SKIP: " + why)
}

// requireLVM skips t unless it runs as root with lvm2 and losetup installed, and returns the
// lvm binary.
func requireLVM(t testing.TB) string {
	t.Helper()
	if os.Geteuid() != 0 {
		skipLoudly(t, "they need root for loop devices and lvm2 (run go test as root)")
	}
	lvm, err := exec.LookPath("lvm")
	if err != nil {
		skipLoudly(t, "lvm2 is not installed (apt-get install -y lvm2): %v", err)
	}
	if _, err := exec.LookPath("losetup"); err != nil {
		skipLoudly(t, "losetup is not installed: %v", err)
	}
	return lvm
}

// testVG is a loop-device volume group for one test.
type testVG struct {
	name string
	loop string
	lvm  string
	env  []string // what the setup commands run with: activation off, no AIO
}

// loopVG makes a sparse file of size bytes in a temporary directory, attaches it to a loop
// device and makes a VG on it with a unique name; Cleanup removes the VG and detaches the loop.
func loopVG(t testing.TB, size int64) *testVG {
	t.Helper()
	lvm := requireLVM(t)
	dir := t.TempDir()
	img := filepath.Join(dir, "pv.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, size); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("losetup", "--find", "--show", img).CombinedOutput()
	if err != nil {
		skipLoudly(t, "losetup cannot attach a loop device: %v: %s", err, out)
	}
	vg := &testVG{name: "kilntest-" + randomHex(4), loop: strings.TrimSpace(string(out)), lvm: lvm}
	t.Cleanup(func() { vg.destroy(t) })
	conf := lvmConf{archives: 0, extra: "devices {\n\tglobal_filter = [ \"a|^" + vg.loop + "$|\", \"r|.*|\" ]\n}"}
	etc, err := writeLVMConf(filepath.Join(dir, "lvm"), conf)
	if err != nil {
		t.Fatal(err)
	}
	vg.env = []string{"LC_ALL=C", "LVM_SYSTEM_DIR=" + etc, "LVM_SUPPRESS_FD_WARNINGS=1", "PATH=" + os.Getenv("PATH")}
	vg.must(t, "pvcreate", "--yes", vg.loop)
	vg.must(t, "vgcreate", vg.name, vg.loop)
	return vg
}

// must runs an lvm2 command for the test's setup and fails the test if it fails.
func (vg *testVG) must(t testing.TB, args ...string) string {
	t.Helper()
	cmd := exec.Command(vg.lvm, args...)
	cmd.Env = vg.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("lvm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (vg *testVG) destroy(t testing.TB) {
	for _, args := range [][]string{{"vgremove", "--force", "--yes", vg.name}, {"pvremove", "--yes", vg.loop}} {
		cmd := exec.Command(vg.lvm, args...)
		cmd.Env = vg.env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("cleanup: lvm %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	if out, err := exec.Command("losetup", "--detach", vg.loop).CombinedOutput(); err != nil {
		t.Errorf("cleanup: losetup --detach %s: %v\n%s", vg.loop, err, out)
	}
}

// config is a driver configuration for the VG: one thick pool "thick", and a thin pool "thin"
// whose thin pool LV the test cannot make without device-mapper, so that it reports down.
func (vg *testVG) config(t testing.TB) map[string]any {
	return map[string]any{
		"state_dir":  t.TempDir(),
		"lvm_config": "devices {\n\tglobal_filter = [ \"a|^" + vg.loop + "$|\", \"r|.*|\" ]\n}",
		"pool": []map[string]any{
			{"name": "thick", "vg": vg.name},
			{"name": "thin", "vg": vg.name, "thin_pool": "pool0"},
		},
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
