package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
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
// latency and the creates per second.
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
	for poolCount(addr) != 1 {
		time.Sleep(20 * time.Millisecond)
	}
	if code := request(b, "PUT", "http://"+addr+"/v3/admin/os-quota-sets/admin",
		`{"quota_set": {"volumes": -1, "gigabytes": -1}}`, nil); code != 200 {
		b.Fatalf("quota update: %d", code)
	}
	var mu sync.Mutex
	var took []time.Duration
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
			for due := range next {
				d := createAndWait(b, addr, due)
				mu.Lock()
				took = append(took, d)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if os.Getenv("KILN_BENCH_METRICS") != "" {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			for _, l := range strings.Split(string(body), "\n") {
				if strings.Contains(l, "_sum") || strings.Contains(l, "_count") {
					b.Log(l)
				}
			}
		}
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(len(took))/elapsed.Seconds(), "creates/s")
}

// pollEvery is how often a client asks for its volume's status: often enough to measure
// latency to a fraction of a millisecond, seldom enough that the eight pollers' requests do not
// take most of the machine's two cores from the agent they measure.
const pollEvery = 500 * time.Microsecond

// createAndWait creates a volume and polls it until it is available; it returns the time
// from due (from now when due is zero) to then.
func createAndWait(b *testing.B, addr string, due time.Time) time.Duration {
	start := due
	if start.IsZero() {
		start = time.Now()
	}
	var created struct{ Volume struct{ ID string } }
	if code := request(b, "POST", "http://"+addr+"/v3/admin/volumes", `{"volume": {"size": 1}}`, &created); code != 202 {
		b.Errorf("create: %d", code)
		return 0
	}
	for {
		var got struct{ Volume struct{ Status string } }
		request(b, "GET", "http://"+addr+"/v3/admin/volumes/"+created.Volume.ID, "", &got)
		switch got.Volume.Status {
		case "available":
			return time.Since(start)
		case "error":
			b.Errorf("volume %s went to error", created.Volume.ID)
			return 0
		}
		time.Sleep(pollEvery)
	}
}

// benchClient keeps a connection per client alive; http.DefaultClient keeps two per host, so
// eight clients would dial anew for most requests.
var benchClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

func request(b *testing.B, method, url, body string, out any) int {
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("X-Auth-Token", "admin:admin")
	resp, err := benchClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
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
