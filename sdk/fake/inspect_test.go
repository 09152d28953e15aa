package fake

import (
	"context"
	"slices"
	"testing"

	"github.com/kilnstorage/kiln/sdk"
)

// TestContents reads what a running driver holds, after creates and deletes that went to the
// log and not yet to the snapshot file.
func TestContents(t *testing.T) {
	dir := t.TempDir()
	d := newDriver(t, Config{StateDir: dir})
	ctx := context.Background()
	for _, id := range []string{"a", "b"} {
		if _, err := d.CreateVolume(ctx, sdk.CreateVolumeRequest{ID: id, Pool: "slow", SizeBytes: 1 << 30}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.CreateSnapshot(ctx, sdk.CreateSnapshotRequest{ID: "s", Volume: sdk.VolumeRef{ID: "a", Pool: "slow"}}); err != nil {
		t.Fatal(err)
	}
	if err := d.DeleteVolume(ctx, sdk.VolumeRef{ID: "b", Pool: "slow"}); err != nil {
		t.Fatal(err)
	}
	vols, snaps, err := Contents(dir, "test")
	if err != nil || !slices.Equal(vols, []string{"a"}) || !slices.Equal(snaps, []string{"s"}) {
		t.Errorf("Contents = %v, %v, %v; want [a], [s]", vols, snaps, err)
	}
	if _, _, err := Contents(dir, "../x"); err == nil {
		t.Error("Contents of a backend name with a slash: no error")
	}
}
