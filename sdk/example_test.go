package sdk_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/kilnstorage/kiln/sdk"
)

// MemConfig is the example driver's configuration: one pool of a given size.
type MemConfig struct {
	Pool string       `kiln:"pool" default:"mem" doc:"Name of the only pool."`
	Size sdk.ByteSize `kiln:"size" default:"10GiB" doc:"Capacity of the pool."`
}

// Mem is a complete driver in memory: the three required methods, idempotent by ID.
type Mem struct {
	cfg  MemConfig
	mu   sync.Mutex
	vols map[string]int64
}

func NewMem(_ context.Context, cfg MemConfig, _ sdk.Env) (*Mem, error) {
	return &Mem{cfg: cfg, vols: map[string]int64{}}, nil
}

func (m *Mem) used() (used int64) {
	for _, size := range m.vols {
		used += size
	}
	return used
}

func (m *Mem) Capacity(context.Context) (sdk.Capacity, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	used, total := m.used(), int64(m.cfg.Size)
	return sdk.Capacity{Pools: []sdk.Pool{{Name: m.cfg.Pool, TotalBytes: total, FreeBytes: total - used,
		ProvisionedBytes: used, Thick: true, GranularityBytes: 1 << 20}}}, nil
}

func (m *Mem) CreateVolume(_ context.Context, req sdk.CreateVolumeRequest) (sdk.Volume, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if size, ok := m.vols[req.ID]; ok && size != req.SizeBytes {
		return sdk.Volume{}, sdk.ErrorAlreadyExists("volume", req.ID, "size")
	} else if free := int64(m.cfg.Size) - m.used(); !ok && req.SizeBytes > free {
		return sdk.Volume{}, sdk.ErrorNoSpace(req.Pool, req.SizeBytes, free)
	}
	m.vols[req.ID] = req.SizeBytes
	return sdk.Volume{ID: req.ID, Pool: req.Pool, SizeBytes: req.SizeBytes}, nil
}

func (m *Mem) DeleteVolume(_ context.Context, v sdk.VolumeRef) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.vols, v.ID)
	return nil
}

// A driver's main is one line:
//
//	func main() { sdk.Serve(sdk.Plugin[MemConfig, *Mem]{Name: "mem", Version: "0.1.0", New: NewMem}) }
//
// This example serves the same plugin in process with sdk.Direct, so that it runs; the host
// reaches a served binary the same way through sdk.Launch.
func ExampleServe() {
	plugin := sdk.Plugin[MemConfig, *Mem]{Name: "mem", Version: "0.1.0", New: NewMem}
	ctx := context.Background()
	c := sdk.Direct(plugin)
	defer c.Close(ctx)
	if _, err := c.Configure(ctx, sdk.ConfigureRequest{Backend: "demo", Config: []byte(`{"size": "1GiB"}`)}); err != nil {
		fmt.Println(err)
		return
	}
	v, err := c.CreateVolume(ctx, sdk.CreateVolumeRequest{ID: "vol-1", SizeBytes: 1_500_000, Pool: "mem"})
	fmt.Println(v.SizeBytes, err) // rounded up to the pool's 1 MiB granularity
	_, err = c.CreateVolume(ctx, sdk.CreateVolumeRequest{ID: "vol-2", SizeBytes: 2 << 30, Pool: "mem"})
	fmt.Println(sdk.CodeOf(err))
	_, err = c.Configure(ctx, sdk.ConfigureRequest{Config: []byte(`{"sise": "1GiB"}`)})
	fmt.Println(err)
	// Output:
	// 2097152 <nil>
	// NoSpace
	// InvalidArgument (INVALID_CONFIG): config.sise: unknown field
}
