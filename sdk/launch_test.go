package sdk_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/kilnstorage/kiln/sdk"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// testDriver builds sdk/internal/testdriver once per test binary.
func testDriver(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kiln-sdk-test-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "testdriver")
		out, err := exec.Command("go", "build", "-o", binPath, "./internal/testdriver").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

func launch(tb testing.TB, cfg sdk.LaunchConfig) *sdk.Client {
	tb.Helper()
	if cfg.Path == "" {
		cfg.Path = testDriver(tb)
	}
	c, err := sdk.Launch(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("Launch: %v", err)
	}
	tb.Cleanup(func() { c.Kill() })
	if _, err := c.Configure(context.Background(), sdk.ConfigureRequest{Backend: "t"}); err != nil {
		tb.Fatalf("Configure: %v", err)
	}
	return c
}

func create(ctx context.Context, c *sdk.Client, name string) (sdk.Volume, error) {
	return c.CreateVolume(ctx, sdk.CreateVolumeRequest{ID: "v-" + name, Name: name, SizeBytes: 1 << 20, Pool: "p"})
}

func TestLaunch_roundTrip(t *testing.T) {
	var mu sync.Mutex
	var methods []string
	count := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoke grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		mu.Lock()
		methods = append(methods, method)
		mu.Unlock()
		return invoke(ctx, method, req, reply, cc, opts...)
	}
	c := launch(t, sdk.LaunchConfig{Interceptors: []grpc.UnaryClientInterceptor{count}})
	if got := c.Info().Name; got != "testdriver" {
		t.Errorf("Info().Name = %q", got)
	}
	v, err := create(context.Background(), c, "ok")
	if err != nil || v.SizeBytes != 1<<20 || v.Pool != "p" {
		t.Fatalf("CreateVolume = %+v, %v", v, err)
	}
	if err := c.Close(context.Background()); err != nil {
		t.Errorf("Close: %v", err)
	}
	mu.Lock()
	d := "/kiln.driver.v1.Driver/"
	// Kill ends with go-plugin's own controller Shutdown, after the SDK's graceful one.
	want := []string{d + "GetInfo", d + "Configure", d + "GetInfo", d + "CreateVolume", d + "Shutdown",
		"/plugin.GRPCController/Shutdown"}
	if !slices.Equal(methods, want) {
		t.Errorf("the interceptor saw %v, want %v", methods, want)
	}
	mu.Unlock()
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Error("the process did not exit after Close")
	}
}

func TestLaunch_pluginExitedDuringCall(t *testing.T) {
	c := launch(t, sdk.LaunchConfig{})
	_, err := create(context.Background(), c, "exit")
	if !errors.Is(err, sdk.ErrPluginExited) || sdk.CodeOf(err) != sdk.Unavailable {
		t.Fatalf("a call during which the process exits: %v (code %v), want ErrPluginExited", err, sdk.CodeOf(err))
	}
}

func TestLaunch_deadlineReachesTheDriver(t *testing.T) {
	c := launch(t, sdk.LaunchConfig{})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := create(ctx, c, "hang")
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, sdk.ErrPluginExited) {
		t.Fatalf("a call past its deadline: %v, want DeadlineExceeded", err)
	}
	if _, err := create(context.Background(), c, "ok"); err != nil {
		t.Errorf("the driver does not answer after a deadline: %v", err)
	}
}

func TestLaunch_checksum(t *testing.T) {
	path := testDriver(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	good := hex.EncodeToString(sum[:])
	for range 2 { // a fresh hash on every launch: the second one passes too
		launch(t, sdk.LaunchConfig{SHA256: "sha256:" + good}).Kill()
	}
	bad := hex.EncodeToString(make([]byte, 32))
	_, err = sdk.Launch(context.Background(), sdk.LaunchConfig{Path: path, SHA256: bad})
	var e *sdk.Error
	if !errors.As(err, &e) || e.Reason != "CHECKSUM_MISMATCH" || e.Meta["actual_sha256"] != good {
		t.Fatalf("launch with a wrong checksum: %v", err)
	}
	if _, err := sdk.Launch(context.Background(), sdk.LaunchConfig{Path: path, SHA256: "nope"}); err == nil {
		t.Error("a malformed checksum was accepted")
	}
}

func TestLaunch_shutdownCancelsInFlightCalls(t *testing.T) {
	c := launch(t, sdk.LaunchConfig{})
	done := make(chan error, 1)
	go func() { _, err := create(context.Background(), c, "hang"); done <- err }()
	time.Sleep(100 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if n, err := c.Shutdown(ctx); err != nil || n != 0 {
		t.Fatalf("Shutdown = %d abandoned, %v", n, err)
	}
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("the in-flight call ended with %v, want Canceled", err)
	}
	_, err := create(context.Background(), c, "ok")
	var e *sdk.Error
	if !errors.As(err, &e) || e.Reason != "SHUTTING_DOWN" {
		t.Errorf("a call after Shutdown: %v, want SHUTTING_DOWN", err)
	}
}

// BenchmarkLaunch_createVolume is one CreateVolume round trip to a launched driver process
// (AutoMTLS on); it reports the median and 99th percentile besides the mean.
func BenchmarkLaunch_createVolume(b *testing.B) {
	c := launch(b, sdk.LaunchConfig{})
	ctx := context.Background()
	took := make([]time.Duration, 0, b.N)
	for b.Loop() {
		start := time.Now()
		if _, err := create(ctx, c, "ok"); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkLaunch_start is the launch of a driver process with AutoMTLS, up to its first answer.
func BenchmarkLaunch_start(b *testing.B) {
	path := testDriver(b)
	for b.Loop() {
		c, err := sdk.Launch(context.Background(), sdk.LaunchConfig{Path: path})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		c.Kill()
		b.StartTimer()
	}
}
