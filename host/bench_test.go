package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkCreateToAvailable runs `kiln agent` in process with one fake backend (a driver
// process) on SQLite, and 8 concurrent clients that each create a 1 GiB volume over HTTP and
// poll until it is available. It reports the median and 99th percentile create → available
// latency, the creates per second, the polls per create and the whole machine's CPU per create.
//
// By default the clients create back to back (a closed loop): the figure is the most creates
// per second, and by Little's law the latency is then 8 ÷ that rate. KILN_BENCH_RATE=N offers N
// creates per second instead (an open loop, spread over the clients), and each latency counts
// from the moment its create was due, so a create that waited for a free client is not
// flattered; KILN_BENCH_CLIENTS changes the number of clients.
func BenchmarkCreateToAvailable(b *testing.B) {
	clients := envInt(b, "KILN_BENCH_CLIENTS", 8)
	rate := envInt(b, "KILN_BENCH_RATE", 0)
	drivers(b)
	data, addr := b.TempDir(), freeAddr(b)
	cfg := filepath.Join(data, "kiln.hcl")
	src := fmt.Sprintf("listen = %q\ndata_dir = %q\ndatabase = %q\nlog_level = \"error\"\nauth {\n mode = \"noauth\"\n}\n"+
		"backend \"fake\" {\n driver = \"fake\"\n config {\n  state_dir = %q\n  pool {\n   name = \"p\"\n   total = \"1PiB\"\n  }\n }\n}\n",
		addr, data, benchDatabase(data), filepath.Join(data, "fake"))
	if err := os.WriteFile(cfg, []byte(src), 0o600); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- agentCommand(ctx, []string{"-config", cfg}, io.Discard) }()
	defer func() { cancel(); <-done }()
	for deadline := time.Now().Add(30 * time.Second); poolCount(addr) != 1; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("the agent shows %d pools after 30 s, want the fake backend's 1", poolCount(addr))
		}
	}
	if code := dialBench(b, addr).do(b, "PUT", "/v3/admin/os-quota-sets/admin",
		`{"quota_set": {"volumes": -1, "gigabytes": -1}}`, nil); code != 200 {
		b.Fatalf("quota update: %d", code)
	}
	var mu sync.Mutex
	var took []time.Duration
	var polls int
	busy0, _ := cpuBusy()
	start := time.Now()
	var wg sync.WaitGroup
	next := make(chan time.Time)
	go func() {
		for i := range b.N {
			var due time.Time // closed loop: when a client takes it
			if rate > 0 {
				due = start.Add(time.Duration(i) * time.Second / time.Duration(rate))
				time.Sleep(time.Until(due))
			}
			next <- due
		}
		close(next)
	}()
	for range clients {
		wg.Go(func() {
			c := dialBench(b, addr)
			defer c.conn.Close()
			for due := range next {
				d, n := createAndWait(b, c, due)
				mu.Lock()
				took, polls = append(took, d), polls+n
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	busy1, busyErr := cpuBusy()
	if path := os.Getenv("KILN_BENCH_METRICS"); path != "" {
		saveMetrics(b, addr, path)
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(len(took))/elapsed.Seconds(), "creates/s")
	b.ReportMetric(float64(polls)/float64(len(took)), "polls/create")
	if busyErr == nil {
		b.ReportMetric(float64((busy1-busy0).Microseconds())/1000/float64(len(took)), "cpu-ms/create")
	}
}

// cpuBusy is the time the machine's CPUs have spent busy since boot, from /proc/stat (Linux):
// everything but idle and I/O wait, over every process. Divided over the creates it is the
// whole cost of one — agent, driver process, clients and kernel.
func cpuBusy() (time.Duration, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(data), "\n")
	fields := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	if len(fields) < 9 || fields[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	var ticks int64
	for i, f := range fields[1:9] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %w", err)
		}
		if i != 3 && i != 4 { // idle, iowait
			ticks += n
		}
	}
	return time.Duration(ticks) * 10 * time.Millisecond, nil // USER_HZ is 100 on Linux
}

// saveMetrics writes the agent's /metrics to path: the task, flow, driver-call and request
// durations of the run. (Logged, they would be cut: a benchmark's log is truncated.)
func saveMetrics(b *testing.B, addr, path string) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil {
		err = os.WriteFile(path, body, 0o644)
	}
	if err != nil {
		b.Fatal(err)
	}
}

// pollEvery is how often a client asks for its volume's status: often enough to measure
// latency to a fraction of a millisecond, seldom enough that the eight pollers' requests do not
// take most of the machine's two cores from the agent they measure.
const pollEvery = 500 * time.Microsecond

// firstPoll is how long a client waits after its create is answered before its first poll.
// No create has reached available that soon (the scheduler and the volume manager still have
// a commit and the driver call to make), so polls before it would only load the machine the
// agent runs on: without the wait a create took 3.5 polls, with it 2.3 (polls/create). A volume
// available sooner is seen at the first poll, which only makes its latency look longer.
const firstPoll = time.Millisecond

// createAndWait creates a volume and polls it until it is available; it returns the time
// from due (from now when due is zero) to then, and how many polls it took.
func createAndWait(b *testing.B, c *benchConn, due time.Time) (time.Duration, int) {
	start := due
	if start.IsZero() {
		start = time.Now()
	}
	var created struct{ Volume struct{ ID string } }
	if code := c.do(b, "POST", "/v3/admin/volumes", `{"volume": {"size": 1}}`, &created); code != 202 {
		b.Errorf("create: %d", code)
		return 0, 0
	}
	time.Sleep(firstPoll)
	for polls := 1; ; polls++ {
		var got struct{ Volume struct{ Status string } }
		code := c.do(b, "GET", "/v3/admin/volumes/"+created.Volume.ID, "", &got)
		switch {
		case got.Volume.Status == "available":
			return time.Since(start), polls
		case got.Volume.Status == "error":
			b.Errorf("volume %s went to error", created.Volume.ID)
			return 0, polls
		case time.Since(start) > time.Minute:
			b.Errorf("volume %s not available after a minute: GET answers %d, status %q", created.Volume.ID, code, got.Volume.Status)
			return 0, polls
		}
		time.Sleep(pollEvery)
	}
}

// benchConn is one client's keep-alive HTTP/1.1 connection, used from the client's goroutine
// alone. net/http's client passes each request through a writer and a reader goroutine per
// connection — five goroutine wake-ups per request, each a thread wake-up on another CPU of
// this VM — and the load generator shares the machine with the agent it measures; this one
// writes the request and reads the answer itself.
type benchConn struct {
	addr string
	conn net.Conn
	r    *bufio.Reader
	buf  []byte
}

func dialBench(b *testing.B, addr string) *benchConn {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	return &benchConn{addr: addr, conn: conn, r: bufio.NewReader(conn)}
}

// do sends one request and decodes the JSON answer into out, when not nil; it returns the
// status code.
func (c *benchConn) do(b *testing.B, method, path, body string, out any) int {
	c.buf = fmt.Appendf(c.buf[:0], "%s %s HTTP/1.1\r\nHost: %s\r\nX-Auth-Token: admin:admin\r\n", method, path, c.addr)
	if body != "" {
		c.buf = fmt.Appendf(c.buf, "Content-Type: application/json\r\nContent-Length: %d\r\n", len(body))
	}
	c.buf = append(append(c.buf, "\r\n"...), body...)
	if _, err := c.conn.Write(c.buf); err != nil {
		b.Fatal(err)
	}
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			b.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return resp.StatusCode
}

// envInt reads a positive whole number from the environment variable key, or def when unset.
func envInt(b *testing.B, key string, def int) int {
	v := os.Getenv(key)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		b.Fatalf("%s=%q: want a whole number", key, v)
	}
	return n
}

// benchDatabase is the benchmark's DSN: SQLite in dir, with KILN_BENCH_SQLITE_OPTIONS (e.g.
// "synchronous=normal") appended when set.
func benchDatabase(dir string) string {
	dsn := "sqlite://" + filepath.Join(dir, "kiln.db")
	if o := os.Getenv("KILN_BENCH_SQLITE_OPTIONS"); o != "" {
		dsn += "?" + o
	}
	return dsn
}
