package backend

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kilnstorage/kiln/sdk"
)

// sink records what a supervisor tells it.
type sink struct {
	mu      sync.Mutex
	reports []sdk.Capacity
	ups     []bool
	changed chan struct{}
}

func newSink() *sink { return &sink{changed: make(chan struct{}, 100)} }

func (s *sink) SaveReport(_ context.Context, _ string, r sdk.Capacity, _ time.Time) error {
	s.mu.Lock()
	s.reports = append(s.reports, r)
	s.mu.Unlock()
	s.changed <- struct{}{}
	return nil
}

func (s *sink) SetUp(_ context.Context, _ string, up bool, _ string) error {
	s.mu.Lock()
	s.ups = append(s.ups, up)
	s.mu.Unlock()
	s.changed <- struct{}{}
	return nil
}

// wait waits until cond holds over what the sink saw.
func (s *sink) wait(t *testing.T, what string, cond func(reports []sdk.Capacity, ups []bool) bool) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		s.mu.Lock()
		ok := cond(s.reports, s.ups)
		s.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-s.changed:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func fakeDriver(t *testing.T) (path string, config []byte) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "kiln-driver-fake")
	out, err := exec.Command("go", "build", "-o", path, "github.com/kilnstorage/kiln/plugins/fake").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	config, _ = json.Marshal(map[string]any{"state_dir": t.TempDir()})
	return path, config
}

func TestSupervisor_restartsADeadDriver(t *testing.T) {
	path, config := fakeDriver(t)
	snk := newSink()
	s := New(Config{Name: "fake", Driver: path, DriverConfig: config, PollInterval: time.Hour,
		MinBackoff: 10 * time.Millisecond}, snk, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()

	snk.wait(t, "a first report", func(r []sdk.Capacity, _ []bool) bool { return len(r) == 1 })
	c, err := s.Client()
	if err != nil {
		t.Fatal(err)
	}
	c.Kill() // the driver process dies
	snk.wait(t, "a report from a new process", func(r []sdk.Capacity, _ []bool) bool {
		return len(r) >= 2 && r[len(r)-1].BootID != r[0].BootID
	})
	snk.mu.Lock()
	sawDown := false
	for _, up := range snk.ups {
		sawDown = sawDown || !up
	}
	snk.mu.Unlock()
	if !sawDown {
		t.Error("the backend was never marked down while its driver was dead")
	}

	s.Refresh()
	snk.wait(t, "a report on refresh", func(r []sdk.Capacity, _ []bool) bool { return len(r) >= 3 })

	cancel()
	<-done
	if _, err := s.Client(); err == nil {
		t.Error("Client after Run ended: want ErrDown")
	}
}

func TestSupervisor_badConfigKeepsTheBackendDown(t *testing.T) {
	path, _ := fakeDriver(t)
	snk := newSink()
	s := New(Config{Name: "fake", Driver: path, DriverConfig: []byte(`{"nope": 1}`),
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}, snk, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx)
	snk.wait(t, "two refusals", func(_ []sdk.Capacity, ups []bool) bool { return len(ups) >= 2 && !ups[0] && !ups[1] })
	if _, err := s.Client(); err == nil {
		t.Error("a backend whose driver refuses its config has a client")
	}
}

func TestSupervisor_refreshBurstPollsOncePerGap(t *testing.T) {
	path, config := fakeDriver(t)
	snk := newSink()
	const gap = time.Second
	s := New(Config{Name: "fake", Driver: path, DriverConfig: config, PollInterval: time.Hour,
		RefreshGap: gap}, snk, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx)
	snk.wait(t, "a first report", func(r []sdk.Capacity, _ []bool) bool { return len(r) == 1 })

	// A burst right after a poll: no poll until the gap is over, then exactly one.
	for range 50 {
		s.Refresh()
	}
	snk.wait(t, "the report after the burst", func(r []sdk.Capacity, _ []bool) bool { return len(r) == 2 })
	time.Sleep(gap + gap/2)
	snk.mu.Lock()
	n := len(snk.reports)
	snk.mu.Unlock()
	if n != 2 {
		t.Errorf("a burst of 50 refreshes within one gap gave %d polls, want 1", n-1)
	}

	// Long after the last poll, a refresh polls at once.
	asked := time.Now()
	s.Refresh()
	snk.wait(t, "the report of a lone refresh", func(r []sdk.Capacity, _ []bool) bool { return len(r) == 3 })
	if waited := time.Since(asked); waited >= gap {
		t.Errorf("a refresh long after the last poll waited %v, want a poll at once", waited)
	}
}
