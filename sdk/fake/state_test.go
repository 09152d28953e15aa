package fake

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kilnstorage/kiln/sdk"
)

// listAll returns every volume d lists.
func listAll(t *testing.T, d *Driver) []sdk.Volume {
	t.Helper()
	page, err := d.ListVolumes(context.Background(), sdk.ListRequest{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return page.Volumes
}

func TestStateSurvivesRestart(t *testing.T) {
	cfg := Config{StateDir: t.TempDir()}
	d := newDriver(t, cfg)
	ctx := context.Background()
	v := mustCreate(t, d, "v", "fast", gib)
	mustCreate(t, d, "w", "slow", gib)
	s := mustSnapshot(t, d, "s", v)
	before, capBefore := listAll(t, d), pool(t, d, "fast")

	d = newDriver(t, cfg)
	if diff := cmp.Diff(before, listAll(t, d)); diff != "" {
		t.Errorf("volumes after restart (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(capBefore, pool(t, d, "fast")); diff != "" {
		t.Errorf("pool after restart (-before +after):\n%s", diff)
	}
	again := mustCreate(t, d, "v", "fast", gib)
	if diff := cmp.Diff(v, again); diff != "" {
		t.Errorf("create repeated after restart (-first +repeat):\n%s", diff)
	}
	if diff := cmp.Diff(s, mustSnapshot(t, d, "s", v)); diff != "" {
		t.Errorf("snapshot repeated after restart (-first +repeat):\n%s", diff)
	}
	if err := d.DeleteVolume(ctx, v.Ref()); sdk.CodeOf(err) != sdk.InUse {
		t.Errorf("delete of a volume with a snapshot after restart: %v, want InUse", err)
	}
}

func TestStateFile(t *testing.T) {
	tests := []struct{ backend, file string }{{"", "fake.log"}, {"lvm-ssd", "lvm-ssd.log"}}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "made")
			d, err := New(context.Background(), Config{StateDir: dir}, sdk.Env{Backend: tt.backend})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { d.Close(context.Background()) })
			mustCreate(t, d, "v", "fast", gib)
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if diff := cmp.Diff([]string{tt.file}, names); diff != "" {
				t.Errorf("state directory (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStateFileCorrupt(t *testing.T) {
	for name, content := range map[string]string{
		"not json":      "{",
		"other version": `{"version": 99}`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "test.json"), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := New(context.Background(), Config{StateDir: dir}, sdk.Env{Backend: "test"})
			if sdk.CodeOf(err) != sdk.Internal {
				t.Fatalf("New on a corrupt state file: %v, want Internal", err)
			}
		})
	}
}

func TestFailedWriteChangesNothing(t *testing.T) {
	cfg := Config{StateDir: t.TempDir()}
	d := newDriver(t, cfg)
	mustCreate(t, d, "v", "fast", gib)
	d.journal.f.Close() // every write and truncate of the log now fails
	for _, id := range []string{"w", "x"} {
		_, err := d.CreateVolume(context.Background(), sdk.CreateVolumeRequest{ID: id, Pool: "fast", SizeBytes: gib})
		wantCode(t, err, sdk.Internal, "INTERNAL")
	}
	if _, err := d.GetVolume(context.Background(), sdk.VolumeRef{ID: "w"}); sdk.CodeOf(err) != sdk.NotFound {
		t.Errorf("volume of a failed write: %v, want NotFound", err)
	}
	if free := pool(t, d, "fast").FreeBytes; free != 99*gib {
		t.Errorf("free bytes after a failed write = %d, want %d", free, 99*gib)
	}
	if diff := cmp.Diff(listAll(t, d), listAll(t, newDriver(t, cfg))); diff != "" {
		t.Errorf("volumes after a restart (-before +after):\n%s", diff)
	}
}

func TestConcurrentCreates(t *testing.T) {
	cfg := Config{StateDir: t.TempDir()}
	d := newDriver(t, cfg)
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req := sdk.CreateVolumeRequest{ID: fmt.Sprintf("v%02d", i), Pool: "fast", SizeBytes: gib}
			if _, err := d.CreateVolume(context.Background(), req); err != nil {
				t.Error(err)
			}
			if _, err := d.Capacity(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := len(listAll(t, newDriver(t, cfg))); got != n {
		t.Errorf("%d volumes after a restart, want %d", got, n)
	}
	if free := pool(t, d, "fast").FreeBytes; free != (100-n)*gib {
		t.Errorf("free bytes = %d, want %d", free, (100-n)*gib)
	}
}
