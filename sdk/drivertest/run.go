package drivertest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/kilnstorage/kiln/sdk"
)

// Transport is how the kit reaches the driver.
type Transport int

// Transports.
const (
	// GRPC serves Plugin in process behind a real gRPC connection (sdk.Pair). The default
	// when Plugin is set.
	GRPC Transport = iota + 1
	// Direct calls Plugin in process without a wire (sdk.Direct).
	Direct
	// Binary launches the built driver binary through sdk.Launch, as the host does. The
	// default when only Binary is set.
	Binary
)

func (t Transport) String() string {
	switch t {
	case GRPC:
		return "grpc"
	case Direct:
		return "direct"
	case Binary:
		return "binary"
	}
	return fmt.Sprintf("Transport(%d)", int(t))
}

// Config says which driver the kit checks and how.
type Config struct {
	// Plugin is the driver for the Direct and GRPC transports.
	Plugin sdk.Factory
	// Binary is the path of the built driver for the Binary transport.
	Binary string
	// Transport defaults to GRPC when Plugin is set, else Binary.
	Transport Transport
	// DriverConfig is the driver's configuration: JSON bytes, or any value that marshals to a
	// JSON object.
	DriverConfig any
	// Backend is the backend name passed to Configure; default "conformance".
	Backend string
	// Pool is the pool the kit uses; default the first pool that is up.
	Pool string
	// VolumeBytes is the size of the kit's volumes; default 1 GiB, raised to the pool's
	// minimum.
	VolumeBytes int64
	// IdempotentCount is how many times I1 repeats a create; default 2.
	IdempotentCount int
	// CapacitySlack is the tolerance of accounting checks in bytes; default one granule.
	CapacitySlack int64
	// Env lists extra KEY=VALUE variables for the Binary transport.
	Env []string
	// Skip maps clause IDs ("A4", "I1/same-args-ok") to the reason they are skipped.
	Skip map[string]string
	// Options serve the driver in the Direct and GRPC transports, e.g.
	// sdk.WithBusyImmediately().
	Options []sdk.Option
}

// kit is one run of the suite against one driver.
type kit struct {
	cfg     Config
	raw     []byte
	client  *sdk.Client
	pool    sdk.Pool
	size    int64
	slack   int64
	stdout  *syncBuffer
	created sync.Map // volume and snapshot IDs the kit made → kind
}

// Run runs every clause against the driver described by cfg.
func Run(t *testing.T, cfg Config) {
	t.Helper()
	k, err := newKit(cfg)
	if err != nil {
		t.Fatalf("drivertest: %v", err)
	}
	k.client = k.open(t)
	defer func() { k.client.Kill() }()
	k.choosePool(t)
	for _, group := range groups {
		group(t, k)
	}
}

func newKit(cfg Config) (*kit, error) {
	if cfg.Transport == 0 {
		cfg.Transport = GRPC
		if cfg.Plugin == nil {
			cfg.Transport = Binary
		}
	}
	switch {
	case cfg.Transport == Binary && cfg.Binary == "":
		return nil, fmt.Errorf("transport binary needs Config.Binary")
	case cfg.Transport != Binary && cfg.Plugin == nil:
		return nil, fmt.Errorf("transport %v needs Config.Plugin", cfg.Transport)
	}
	raw, err := configJSON(cfg.DriverConfig)
	if err != nil {
		return nil, err
	}
	if cfg.Backend == "" {
		cfg.Backend = "conformance"
	}
	cfg.IdempotentCount = max(cfg.IdempotentCount, 2)
	return &kit{cfg: cfg, raw: raw, stdout: &syncBuffer{}}, nil
}

func configJSON(v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return []byte("{}"), nil
	case []byte:
		return v, nil
	case json.RawMessage:
		return v, nil
	case string:
		return []byte(v), nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("DriverConfig: %w", err)
	}
	return raw, nil
}

// open starts the driver over the configured transport and configures it.
func (k *kit) open(t testing.TB) *sdk.Client {
	t.Helper()
	c, err := k.launch()
	if err != nil {
		t.Fatalf("start the driver over %v: %v", k.cfg.Transport, err)
	}
	_, err = c.Configure(ctx(t), sdk.ConfigureRequest{Backend: k.cfg.Backend, Config: k.raw})
	if err != nil {
		c.Kill()
		t.Fatalf("Configure: %v", err)
	}
	return c
}

func (k *kit) launch() (*sdk.Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	switch k.cfg.Transport {
	case Direct:
		return sdk.Direct(k.cfg.Plugin, k.cfg.Options...), nil
	case GRPC:
		return sdk.Pair(ctx, k.cfg.Plugin, k.cfg.Options...)
	}
	return sdk.Launch(ctx, sdk.LaunchConfig{Path: k.cfg.Binary, Env: k.cfg.Env,
		Stdout: k.stdout, Logger: hclog.NewNullLogger(), LogLevel: "warn"})
}

// restart kills the driver without a shutdown and starts it again.
func (k *kit) restart(t testing.TB) {
	t.Helper()
	k.client.Kill()
	k.client = k.open(t)
}

func (k *kit) choosePool(t *testing.T) {
	t.Helper()
	report, err := k.client.Capacity(ctx(t))
	if err != nil {
		t.Fatalf("Capacity: %v", err)
	}
	for _, p := range report.Pools {
		if (k.cfg.Pool == "" && p.State == sdk.PoolUp) || p.Name == k.cfg.Pool {
			k.pool = p
			break
		}
	}
	if k.pool.Name == "" {
		t.Fatalf("no usable pool (want %q) in %+v", k.cfg.Pool, report.Pools)
	}
	size := k.cfg.VolumeBytes
	if size == 0 {
		size = max(1<<30, k.pool.MinVolumeBytes)
	}
	k.size = roundUp(size, k.pool.GranularityBytes)
	k.slack = k.cfg.CapacitySlack
	if k.slack == 0 {
		k.slack = k.pool.GranularityBytes
	}
}

func roundUp(n, g int64) int64 {
	if g <= 1 || n%g == 0 {
		return n
	}
	return n + g - n%g
}

// newID returns a fresh UUID and remembers it for the cleanliness check.
func (k *kit) newID(kind string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	id := fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
	k.created.Store(id, kind)
	return id
}

// ctx is a per-call context bounded well below the test's own timeout.
func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// syncBuffer collects a driver's stray stdout.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
