package fake

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/kilnstorage/kiln/sdk"
)

// reopen loads the state files of the "test" backend in dir, as New would.
func reopen(t *testing.T, dir string) state {
	t.Helper()
	j, s, err := openJournal(filepath.Join(dir, "test"), false)
	if err != nil {
		t.Fatalf("openJournal: %v", err)
	}
	if err := j.close(); err != nil {
		t.Fatal(err)
	}
	return s
}

// wantState fails the test unless the state files in dir hold d's state.
func wantState(t *testing.T, d *Driver, dir string) {
	t.Helper()
	// The index by ID is compared too: the one apply kept must be the one a load builds.
	if diff := cmp.Diff(d.st, reopen(t, dir), cmpopts.EquateEmpty(), cmp.AllowUnexported(state{})); diff != "" {
		t.Errorf("state loaded from disk (-memory +disk):\n%s", diff)
	}
}

// churn makes n random changes to d: creates, extends, deletes and snapshots of a few volumes,
// with the seeded bugs that make several objects of an ID and leak capacity.
func churn(t *testing.T, d *Driver, n int) {
	t.Helper()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	pools := []string{"fast", "slow"}
	for range n {
		id := fmt.Sprintf("v%d", r.IntN(20))
		ref := sdk.VolumeRef{ID: id}
		var err error
		switch r.IntN(5) {
		case 0, 1:
			_, err = d.CreateVolume(ctx, sdk.CreateVolumeRequest{ID: id, Pool: pools[r.IntN(2)],
				SizeBytes: gib, Params: map[string]string{"n": id}})
		case 2:
			_, err = d.ExtendVolume(ctx, ref, int64(r.IntN(4)+1)*gib)
		case 3:
			err = d.DeleteSnapshot(ctx, sdk.SnapshotRef{ID: "s" + id})
			if err == nil {
				err = d.DeleteVolume(ctx, ref)
			}
		case 4:
			_, err = d.CreateSnapshot(ctx, sdk.CreateSnapshotRequest{ID: "s" + id, Volume: ref})
		}
		if code := sdk.CodeOf(err); err != nil && code != sdk.NotFound && code != sdk.NoSpace {
			t.Fatalf("change %s: %v", id, err)
		}
	}
}

func TestLogReplayEqualsMemory(t *testing.T) {
	dir := t.TempDir()
	d := newDriver(t, Config{StateDir: dir, Bugs: []string{BugNonIdempotentCreate, BugLeakCapacityOnDelete}})
	churn(t, d, 3000)
	if len(d.st.Leaked) == 0 || d.st.Serial < 100 {
		t.Fatalf("churn leaked %v and made %d objects; want both", d.st.Leaked, d.st.Serial)
	}
	if _, err := os.Stat(filepath.Join(dir, "test.json")); err != nil {
		t.Errorf("no snapshot after 3000 changes: %v", err)
	}
	wantState(t, d, dir)
}

func TestLogCompaction(t *testing.T) {
	dir := t.TempDir()
	d := newDriver(t, Config{StateDir: dir})
	mustCreate(t, d, "keep", "fast", gib)
	for range minCompact / 2 {
		mustCreate(t, d, "v", "fast", gib)
		if err := d.DeleteVolume(context.Background(), sdk.VolumeRef{ID: "v"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := d.journal.records; got != 0 {
		t.Errorf("%d records in the log after %d changes, want 0: compacted", got, minCompact+1)
	}
	snap, err := readSnapshot(filepath.Join(dir, "test.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := snap.volume("keep"); !ok || len(snap.Volumes) != 1 {
		t.Errorf("snapshot volumes = %+v, want only keep", snap.Volumes)
	}
	mustCreate(t, d, "after", "fast", gib)
	wantState(t, d, dir)
}

// TestLogReplayedOnItsSnapshot is a crash between writing a snapshot and emptying the log: the
// log's changes, replayed on a snapshot that already holds them, change nothing.
func TestLogReplayedOnItsSnapshot(t *testing.T) {
	dir := t.TempDir()
	d := newDriver(t, Config{StateDir: dir, Bugs: []string{BugNonIdempotentCreate, BugLeakCapacityOnDelete}})
	churn(t, d, 200)
	if d.journal.records < 100 {
		t.Fatalf("%d records in the log, want at least 100", d.journal.records)
	}
	if err := d.st.save(filepath.Join(dir, "test.json")); err != nil {
		t.Fatal(err)
	}
	wantState(t, d, dir)
}

func TestLogTornLastLine(t *testing.T) {
	dir := t.TempDir()
	d := newDriver(t, Config{StateDir: dir})
	mustCreate(t, d, "v", "fast", gib)
	mustCreate(t, d, "w", "fast", gib)
	for _, torn := range []string{`{"serial":3,"put_volumes":[{"obj`, "{\"serial\":3,\x00\x00\x00\n"} {
		appendLog(t, dir, torn)
		d = newDriver(t, Config{StateDir: dir})
		if got := len(listAll(t, d)); got != 2 {
			t.Errorf("%d volumes after a torn record %q, want 2", got, torn)
		}
	}
	mustCreate(t, d, "x", "fast", gib) // on a line of its own
	wantState(t, d, dir)
}

func TestLogCorruptLine(t *testing.T) {
	dir := t.TempDir()
	d := newDriver(t, Config{StateDir: dir})
	for _, id := range []string{"v", "w", "x"} {
		mustCreate(t, d, id, "fast", gib)
	}
	path := filepath.Join(dir, "test.log")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	lines[1] = "{garbage\n"
	if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = New(context.Background(), Config{StateDir: dir}, sdk.Env{Backend: "test"})
	wantCode(t, err, sdk.Internal, "INTERNAL")
	if want := "log " + path + ": line 2:"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name %q", err, want)
	}
}

// TestSnapshotVersion1 loads a state file as the fake wrote it before it kept a log.
func TestSnapshotVersion1(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join("testdata", "v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "test.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	d := newDriver(t, Config{StateDir: dir})
	var ids []string
	for _, v := range listAll(t, d) {
		ids = append(ids, fmt.Sprintf("%s %d %s", v.ID, v.SizeBytes/gib, v.ProviderData["fake_object_id"]))
	}
	if diff := cmp.Diff([]string{"v 2 1", "w 1 3"}, ids); diff != "" {
		t.Errorf("volumes (-want +got):\n%s", diff)
	}
	if free := pool(t, d, "fast").FreeBytes; free != 97*gib {
		t.Errorf("fast free bytes = %d, want %d (2 GiB used, 1 GiB leaked)", free, 97*gib)
	}
	if got := mustCreate(t, d, "x", "slow", gib); got.ProviderData["fake_object_id"] != "4" {
		t.Errorf("new volume's object = %s, want 4", got.ProviderData["fake_object_id"])
	}
	wantState(t, d, dir)
}

func TestForgetEmptiesTheFiles(t *testing.T) {
	dir := t.TempDir()
	mustCreate(t, newDriver(t, Config{StateDir: dir}), "v", "fast", gib)
	if got := listAll(t, newDriver(t, Config{StateDir: dir, Bugs: []string{BugForgetsVolumesOnRestart}})); len(got) != 0 {
		t.Errorf("volumes with %s = %+v, want none", BugForgetsVolumesOnRestart, got)
	}
	if got := listAll(t, newDriver(t, Config{StateDir: dir})); len(got) != 0 {
		t.Errorf("volumes after the forgetful restart = %+v, want none", got)
	}
}

// appendLog appends text to the log of the "test" backend in dir, as a crash mid-append leaves it.
func appendLog(t *testing.T, dir, text string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, "test.log"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
