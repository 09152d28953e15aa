package sdk_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kilnstorage/kiln/sdk"
)

// funcs is a driver whose behaviour each test sets; it implements only the required methods
// and Closer.
type funcs struct {
	pools  []sdk.Pool
	create func(ctx context.Context, req sdk.CreateVolumeRequest) (sdk.Volume, error)
	closed atomic.Bool
}

func (f *funcs) Capacity(context.Context) (sdk.Capacity, error) {
	return sdk.Capacity{Pools: f.pools}, nil
}

func (f *funcs) CreateVolume(ctx context.Context, req sdk.CreateVolumeRequest) (sdk.Volume, error) {
	if f.create != nil {
		return f.create(ctx, req)
	}
	return sdk.Volume{ID: req.ID, SizeBytes: req.SizeBytes}, nil
}

func (f *funcs) DeleteVolume(context.Context, sdk.VolumeRef) error { return nil }

func (f *funcs) Close(context.Context) error { f.closed.Store(true); return nil }

type noConfig struct{}

var pool = sdk.Pool{Name: "p", TotalBytes: 1 << 40, FreeBytes: 1 << 40, Thick: true,
	GranularityBytes: 4 << 20, MinVolumeBytes: 8 << 20, MaxVolumeBytes: 1 << 30}

// transports runs fn against f served Direct and over a gRPC Pair.
func transports(t *testing.T, f *funcs, fn func(t *testing.T, c *sdk.Client), opts ...sdk.Option) {
	if f.pools == nil {
		f.pools = []sdk.Pool{pool}
	}
	p := sdk.Plugin[noConfig, *funcs]{Name: "funcs", Version: "1",
		New: func(context.Context, noConfig, sdk.Env) (*funcs, error) { return f, nil }}
	open := map[string]func() (*sdk.Client, error){
		"direct": func() (*sdk.Client, error) { return sdk.Direct(p, opts...), nil },
		"grpc":   func() (*sdk.Client, error) { return sdk.Pair(context.Background(), p, opts...) },
	}
	for name, o := range open {
		t.Run(name, func(t *testing.T) {
			c, err := o()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Kill() })
			if _, err := c.Configure(context.Background(), sdk.ConfigureRequest{Backend: "b"}); err != nil {
				t.Fatal(err)
			}
			fn(t, c)
		})
	}
}

func req(id string, size int64) sdk.CreateVolumeRequest {
	return sdk.CreateVolumeRequest{ID: id, SizeBytes: size, Pool: "p"}
}

func TestCore_sizes(t *testing.T) {
	transports(t, &funcs{}, func(t *testing.T, c *sdk.Client) {
		v, err := c.CreateVolume(context.Background(), req("a", 9<<20))
		if err != nil || v.SizeBytes != 12<<20 || v.Pool != "p" {
			t.Errorf("9 MiB in 4 MiB granules: %+v, %v; want 12 MiB in pool p", v, err)
		}
		tests := []struct {
			r    sdk.CreateVolumeRequest
			code sdk.Code
		}{
			{req("b", 4<<20), sdk.OutOfRange},
			{req("c", 2<<30), sdk.OutOfRange},
			{req("d", 0), sdk.InvalidArgument},
			{req("", 8<<20), sdk.InvalidArgument},
			{sdk.CreateVolumeRequest{ID: "e", SizeBytes: 8 << 20, Pool: "nope"}, sdk.InvalidArgument},
			{sdk.CreateVolumeRequest{ID: "f", SizeBytes: 8 << 20, Pool: "p", Thin: new(true)}, sdk.InvalidArgument},
		}
		for _, tt := range tests {
			if _, err := c.CreateVolume(context.Background(), tt.r); sdk.CodeOf(err) != tt.code {
				t.Errorf("CreateVolume(%+v) = %v, want code %v", tt.r, err, tt.code)
			}
		}
	})
}

func TestCore_panicsAndPlainErrors(t *testing.T) {
	f := &funcs{create: func(_ context.Context, r sdk.CreateVolumeRequest) (sdk.Volume, error) {
		switch r.ID {
		case "panic":
			panic("boom")
		case "plain":
			return sdk.Volume{}, errors.New("disk on fire")
		case "small":
			return sdk.Volume{ID: r.ID, SizeBytes: 1}, nil
		}
		return sdk.Volume{ID: r.ID, SizeBytes: r.SizeBytes}, nil
	}}
	transports(t, f, func(t *testing.T, c *sdk.Client) {
		ctx := context.Background()
		var e *sdk.Error
		if _, err := c.CreateVolume(ctx, req("panic", 8<<20)); !errors.As(err, &e) || e.Reason != "DRIVER_PANIC" {
			t.Errorf("panic: %v", err)
		}
		if _, err := c.CreateVolume(ctx, req("plain", 8<<20)); sdk.CodeOf(err) != sdk.Internal || !strings.Contains(err.Error(), "disk on fire") {
			t.Errorf("plain error: %v", err)
		}
		if _, err := c.CreateVolume(ctx, req("small", 8<<20)); !errors.As(err, &e) || e.Reason != "DRIVER_RETURNED_SMALL_VOLUME" {
			t.Errorf("small volume: %v", err)
		}
		if _, err := c.CreateVolume(ctx, req("fine", 8<<20)); err != nil {
			t.Errorf("after a panic: %v", err)
		}
	})
}

// concurrency counts how many calls run at once per ID.
type concurrency struct {
	mu      sync.Mutex
	running map[string]int
	most    map[string]int
}

func (c *concurrency) enter(id string) func() {
	c.mu.Lock()
	c.running[id]++
	c.most[id] = max(c.most[id], c.running[id])
	c.mu.Unlock()
	return func() { c.mu.Lock(); c.running[id]--; c.mu.Unlock() }
}

func TestCore_serializesPerID(t *testing.T) {
	cc := &concurrency{running: map[string]int{}, most: map[string]int{}}
	f := &funcs{create: func(_ context.Context, r sdk.CreateVolumeRequest) (sdk.Volume, error) {
		defer cc.enter(r.ID)()
		defer cc.enter("all")()
		time.Sleep(20 * time.Millisecond)
		return sdk.Volume{ID: r.ID, SizeBytes: r.SizeBytes}, nil
	}}
	transports(t, f, func(t *testing.T, c *sdk.Client) {
		cc.most = map[string]int{}
		var wg sync.WaitGroup
		for i := range 8 {
			id := []string{"x", "y"}[i%2]
			wg.Go(func() {
				if _, err := c.CreateVolume(context.Background(), req(id, 8<<20)); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if cc.most["x"] != 1 || cc.most["y"] != 1 || cc.most["all"] != 2 {
			t.Errorf("most concurrent calls: %v; want 1 per ID and 2 in all", cc.most)
		}
	})
}

func TestCore_busyImmediately(t *testing.T) {
	started := make(chan struct{}, 1)
	f := &funcs{create: func(ctx context.Context, r sdk.CreateVolumeRequest) (sdk.Volume, error) {
		started <- struct{}{}
		<-ctx.Done()
		return sdk.Volume{}, ctx.Err()
	}}
	transports(t, f, func(t *testing.T, c *sdk.Client) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { _, _ = c.CreateVolume(ctx, req("x", 8<<20)); close(done) }()
		<-started
		_, err := c.CreateVolume(context.Background(), req("x", 8<<20))
		if sdk.CodeOf(err) != sdk.Busy {
			t.Errorf("a second call on a held ID: %v, want Busy", err)
		}
		cancel()
		<-done
	}, sdk.WithBusyImmediately())
}

func TestCore_waitingCallBoundedByItsContext(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int32
	f := &funcs{create: func(ctx context.Context, r sdk.CreateVolumeRequest) (sdk.Volume, error) {
		calls.Add(1)
		select {
		case <-release:
			return sdk.Volume{ID: r.ID, SizeBytes: r.SizeBytes}, nil
		case <-ctx.Done():
			return sdk.Volume{}, ctx.Err()
		}
	}}
	transports(t, f, func(t *testing.T, c *sdk.Client) {
		done := make(chan struct{})
		go func() { _, _ = c.CreateVolume(context.Background(), req("x", 8<<20)); close(done) }()
		for calls.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		// In process the waiting call answers Busy; over gRPC the client's own deadline
		// answers first, and the server's copy of that deadline, which ends a moment later,
		// may let the call reach the driver with an ending context.
		_, err := c.CreateVolume(ctx, req("x", 8<<20))
		if code := sdk.CodeOf(err); code != sdk.Busy && code != sdk.DeadlineExceeded {
			t.Errorf("a call waiting past its deadline: %v, want Busy or DeadlineExceeded", err)
		}
		release <- struct{}{}
		<-done
		if n := calls.Swap(0); n != 1 && !strings.HasSuffix(t.Name(), "grpc") {
			t.Errorf("the driver saw %d calls, want 1", n)
		}
	})
}

func TestCore_capabilitiesAndReportChecks(t *testing.T) {
	snapPool := pool
	snapPool.Features = &sdk.FeatureSet{Snapshots: true}
	transports(t, &funcs{pools: []sdk.Pool{snapPool}}, func(t *testing.T, c *sdk.Client) {
		caps := c.Info().Capabilities
		if caps != (sdk.Capabilities{Close: true}) {
			t.Errorf("capabilities %+v, want only Close", caps)
		}
		var e *sdk.Error
		if _, err := c.Capacity(context.Background()); !errors.As(err, &e) || e.Reason != "INVALID_CAPACITY_REPORT" {
			t.Errorf("a pool declaring snapshots the driver lacks: %v", err)
		}
		if _, err := c.GetVolume(context.Background(), sdk.VolumeRef{ID: "x"}); sdk.CodeOf(err) != sdk.Unsupported {
			t.Errorf("GetVolume on a driver without Inspector: %v", err)
		}
	})
}

func TestCore_configureAndShutdown(t *testing.T) {
	f := &funcs{}
	p := sdk.Plugin[noConfig, *funcs]{Name: "funcs", Version: "1",
		New: func(context.Context, noConfig, sdk.Env) (*funcs, error) { return f, nil }}
	c := sdk.Direct(p)
	var e *sdk.Error
	if _, err := c.Capacity(context.Background()); !errors.As(err, &e) || e.Reason != "NOT_CONFIGURED" {
		t.Errorf("before Configure: %v", err)
	}
	if _, err := c.Configure(context.Background(), sdk.ConfigureRequest{Config: []byte(`{"x":1}`)}); sdk.CodeOf(err) != sdk.InvalidArgument {
		t.Errorf("Configure with an unknown key: %v", err)
	}
	if _, err := c.Configure(context.Background(), sdk.ConfigureRequest{}); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(context.Background()); err != nil || !f.closed.Load() {
		t.Errorf("Close = %v; driver closed %v", err, f.closed.Load())
	}
	if _, err := c.Capacity(context.Background()); !errors.As(err, &e) || e.Reason != "SHUTTING_DOWN" {
		t.Errorf("after Close: %v", err)
	}
}

func TestCore_errorWithoutACodeIsInternal(t *testing.T) {
	f := &funcs{create: func(context.Context, sdk.CreateVolumeRequest) (sdk.Volume, error) {
		return sdk.Volume{}, &sdk.Error{Reason: "FORGOT_THE_CODE"}
	}}
	transports(t, f, func(t *testing.T, c *sdk.Client) {
		var e *sdk.Error
		_, err := c.CreateVolume(context.Background(), req("a", 8<<20))
		if !errors.As(err, &e) || e.Code != sdk.Internal || e.Reason != "INVALID_ERROR_CODE" {
			t.Errorf("an Error without a code: %v, want Internal INVALID_ERROR_CODE", err)
		}
	})
}

func TestCore_driverUnavailableIsNotAnExit(t *testing.T) {
	f := &funcs{create: func(context.Context, sdk.CreateVolumeRequest) (sdk.Volume, error) {
		return sdk.Volume{}, &sdk.Error{Code: sdk.Unavailable, Message: "array offline"}
	}}
	transports(t, f, func(t *testing.T, c *sdk.Client) {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		_, err := c.CreateVolume(ctx, req("a", 8<<20))
		if sdk.CodeOf(err) != sdk.Unavailable || errors.Is(err, sdk.ErrPluginExited) {
			t.Errorf("the driver's own Unavailable: %v", err)
		}
	})
}

func TestCore_reconfigureClosesTheOldDriverAfterItsCalls(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	var closedDuringCall atomic.Bool
	var old *funcs
	old = &funcs{create: func(_ context.Context, r sdk.CreateVolumeRequest) (sdk.Volume, error) {
		close(started)
		<-release
		closedDuringCall.Store(old.closed.Load())
		return sdk.Volume{ID: r.ID, SizeBytes: r.SizeBytes}, nil
	}}
	drivers := []*funcs{old, {}}
	var n atomic.Int32
	p := sdk.Plugin[noConfig, *funcs]{Name: "funcs", Version: "1", New: func(context.Context, noConfig, sdk.Env) (*funcs, error) {
		d := drivers[n.Add(1)-1]
		d.pools = []sdk.Pool{pool}
		return d, nil
	}}
	c := sdk.Direct(p)
	ctx := context.Background()
	if _, err := c.Configure(ctx, sdk.ConfigureRequest{}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { _, err := c.CreateVolume(ctx, req("a", 8<<20)); done <- err }()
	<-started
	reconfigured := make(chan error)
	go func() { _, err := c.Configure(ctx, sdk.ConfigureRequest{}); reconfigured <- err }()
	time.Sleep(50 * time.Millisecond)
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := <-reconfigured; err != nil {
		t.Fatal(err)
	}
	if closedDuringCall.Load() || !old.closed.Load() {
		t.Errorf("old driver closed during its call: %v; closed after: %v", closedDuringCall.Load(), old.closed.Load())
	}
}

func TestCore_configureSurvivesPanicsAndNilDrivers(t *testing.T) {
	for name, newFn := range map[string]func(context.Context, noConfig, sdk.Env) (*funcs, error){
		"panic": func(context.Context, noConfig, sdk.Env) (*funcs, error) { panic("bad config") },
		"nil":   func(context.Context, noConfig, sdk.Env) (*funcs, error) { return nil, nil },
	} {
		t.Run(name, func(t *testing.T) {
			c := sdk.Direct(sdk.Plugin[noConfig, *funcs]{Name: "funcs", Version: "1", New: newFn})
			_, err := c.Configure(context.Background(), sdk.ConfigureRequest{})
			if sdk.CodeOf(err) != sdk.Internal {
				t.Errorf("Configure = %v, want Internal", err)
			}
		})
	}
}
