package drivertest

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kilnstorage/kiln/sdk"
)

// handshakeLine is go-plugin's protocol line: core version 1, app protocol 1, a unix socket,
// grpc.
var handshakeLine = regexp.MustCompile(`^1\|1\|unix\|[^|]+\|grpc\|`)

func hygieneClauses(t *testing.T, k *kit) {
	k.clause(t, "H1/describe", func(t *testing.T) {
		k.needBinary(t)
		out, err := exec.Command(k.cfg.Binary, "describe").Output()
		var info sdk.Info
		if err != nil || json.Unmarshal(out, &info) != nil || info.Name != k.client.Info().Name {
			t.Errorf("%s describe: %v; printed %q", k.cfg.Binary, err, out)
		}
	})
	k.clause(t, "H2/refuses-without-host", func(t *testing.T) {
		k.needBinary(t)
		cmd := exec.Command(k.cfg.Binary)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
		out, err := cmd.Output()
		if err == nil || len(out) > 0 {
			t.Errorf("run without the host: exit %v, stdout %q; want a failure and no stdout", err, out)
		}
	})
	var stderr string
	ran := false
	k.clause(t, "H3/handshake-first", func(t *testing.T) {
		k.needBinary(t)
		var first string
		first, stderr = k.rawStart(t)
		ran = true
		if !handshakeLine.MatchString(first) {
			t.Errorf("first stdout line %q is not the go-plugin handshake", first)
		}
	})
	k.clause(t, "H4/stderr-hclog-json", func(t *testing.T) {
		k.needBinary(t)
		if !ran {
			t.Skip("H3 did not run, so there is no stderr to read")
		}
		checkJSONLines(t, stderr)
	})
	k.clause(t, "H5/stdout-silent", func(t *testing.T) {
		k.needBinary(t)
		if out := k.stdout.String(); out != "" {
			t.Errorf("the driver wrote to stdout during the run: %q", out)
		}
	})
	k.clause(t, "H6/exits-with-parent", func(t *testing.T) {
		k.needBinary(t)
		pid := k.orphan(t)
		deadline := time.Now().Add(5 * time.Second)
		for alive(pid) {
			if time.Now().After(deadline) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				t.Fatalf("driver %d still runs 5 s after its parent exited", pid)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

func (k *kit) needBinary(t *testing.T) {
	t.Helper()
	if k.cfg.Transport != Binary {
		t.Skipf("transport %v runs no driver process", k.cfg.Transport)
	}
}

// pluginEnv is what go-plugin's host gives a plugin, without TLS; sockets go to a directory the
// test removes.
func (k *kit) pluginEnv(t *testing.T) []string {
	return append([]string{"PATH=" + os.Getenv("PATH"), sdk.MagicCookieKey + "=" + sdk.MagicCookieValue,
		"PLUGIN_UNIX_SOCKET_DIR=" + t.TempDir(),
		"PLUGIN_PROTOCOL_VERSIONS=1", "PLUGIN_MIN_PORT=10000", "PLUGIN_MAX_PORT=25000",
		sdk.LogLevelEnv + "=trace"}, k.cfg.Env...)
}

// rawStart runs the binary as go-plugin would, returns its first stdout line, then kills it
// and returns what it wrote to stderr.
func (k *kit) rawStart(t *testing.T) (first string, stderr string) {
	t.Helper()
	cmd := exec.Command(k.cfg.Binary)
	cmd.Env = k.pluginEnv(t)
	var errBuf syncBuffer
	cmd.Stderr = &errBuf
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", k.cfg.Binary, err)
	}
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case first = <-line:
	case <-time.After(30 * time.Second):
		t.Error("no handshake line within 30 s")
	}
	time.Sleep(100 * time.Millisecond) // let the startup log lines arrive
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	return first, errBuf.String()
}

func checkJSONLines(t *testing.T, stderr string) {
	t.Helper()
	lines := 0
	for _, l := range strings.Split(stderr, "\n") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		lines++
		var entry map[string]any
		if err := json.Unmarshal([]byte(l), &entry); err != nil || entry["@level"] == nil || entry["@message"] == nil {
			t.Errorf("stderr line is not hclog JSON: %q", l)
		}
	}
	if lines == 0 {
		t.Error("nothing on stderr at level trace: want hclog JSON lines")
	}
}

// orphan starts the driver under a shell that exits at once, and returns the driver's PID.
func (k *kit) orphan(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("sh", "-c", `"$0" >/dev/null 2>&1 & echo $!; sleep 0.3`, k.cfg.Binary)
	cmd.Env = k.pluginEnv(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("start the driver under sh: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("sh printed %q, want a PID", out)
	}
	return pid
}

// alive tells whether pid runs (a zombie does not count).
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}
