package main

import (
	"os"
	"testing"

	"github.com/kilnstorage/kiln/sdk"
)

// TestSnapshotOutlivesItsVolume: a snapshot is a read-only file of its own, which deleting
// its volume leaves alone and which restores into any pool.
func TestSnapshotOutlivesItsVolume(t *testing.T) {
	d := testDriver(t, testConfig(t), fsops{})
	ctx := t.Context()
	vol := mustCreate(t, d, "vol", "a", 8*mib, false)
	writeAt(t, vol.ProviderData["path"], 2*mib, []byte("before"))
	snap, err := d.CreateSnapshot(ctx, sdk.CreateSnapshotRequest{ID: "snap", Volume: vol.Ref()})
	if err != nil {
		t.Fatal(err)
	}
	writeAt(t, vol.ProviderData["path"], 2*mib, []byte("after!"))
	info, err := os.Stat(snap.ProviderData["path"])
	if err != nil || info.Mode().Perm() != snapshotMode || snap.SizeBytes != 8*mib {
		t.Fatalf("snapshot file: %v, %v; size %d", info, err, snap.SizeBytes)
	}
	if err := d.DeleteVolume(ctx, vol.Ref()); err != nil {
		t.Fatal(err)
	}
	for _, pool := range []string{"a", "b"} {
		req := sdk.CreateVolumeRequest{ID: "restored-" + pool, Pool: pool, SizeBytes: 16 * mib}
		v, err := d.CreateVolumeFromSnapshot(ctx, req, snap.Ref())
		if err != nil {
			t.Fatalf("restore into pool %s after its volume was deleted: %v", pool, err)
		}
		data, _ := os.ReadFile(v.ProviderData["path"])
		if len(data) != 16*mib || string(data[2*mib:2*mib+6]) != "before" || v.SourceSnapshotID != "snap" {
			t.Errorf("restored %d bytes from %s holding %q", len(data), v.SourceSnapshotID, data[2*mib:2*mib+6])
		}
	}
	if err := d.DeleteSnapshot(ctx, snap.Ref()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(snap.ProviderData["path"]); !os.IsNotExist(err) {
		t.Errorf("the snapshot's file after DeleteSnapshot: %v", err)
	}
}

func TestSnapshotOfAnotherVolumeIsAlreadyExists(t *testing.T) {
	d := testDriver(t, testConfig(t), fsops{})
	a, b := mustCreate(t, d, "a", "a", mib, true), mustCreate(t, d, "b", "b", mib, true)
	if _, err := d.CreateSnapshot(t.Context(), sdk.CreateSnapshotRequest{ID: "s", Volume: a.Ref()}); err != nil {
		t.Fatal(err)
	}
	_, err := d.CreateSnapshot(t.Context(), sdk.CreateSnapshotRequest{ID: "s", Volume: b.Ref()})
	wantCode(t, err, sdk.AlreadyExists, "SNAPSHOT_EXISTS_DIFFERENT")
	_, err = d.CreateSnapshot(t.Context(), sdk.CreateSnapshotRequest{ID: "t", Volume: sdk.VolumeRef{ID: "gone", Pool: "a"}})
	wantCode(t, err, sdk.NotFound, "VOLUME_NOT_FOUND")
}
