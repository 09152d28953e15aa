package drivertest

import (
	"testing"

	"github.com/kilnstorage/kiln/sdk"
)

func featureClauses(t *testing.T, k *kit) {
	f := k.features()
	k.clause(t, "F1/extend-grows", func(t *testing.T) {
		k.need(t, f.Extend, "extend")
		v := k.create(t, k.request(k.size))
		grown, err := k.client.ExtendVolume(ctx(t), v.Ref(), 2*k.size)
		if err != nil || grown.SizeBytes < 2*k.size {
			t.Fatalf("ExtendVolume to %d: %+v, %v", 2*k.size, grown, err)
		}
		if k.caps().Inspect {
			got, err := k.client.GetVolume(ctx(t), grown.Ref())
			if err != nil || got.SizeBytes != grown.SizeBytes {
				t.Errorf("GetVolume after extend: %+v, %v; extend returned %d bytes", got, err, grown.SizeBytes)
			}
		}
	})
	k.clause(t, "F1/extend-never-shrinks", func(t *testing.T) {
		k.need(t, f.Extend, "extend")
		v := k.create(t, k.request(2*k.size))
		got, err := k.client.ExtendVolume(ctx(t), v.Ref(), k.size)
		if err != nil || got.SizeBytes != v.SizeBytes {
			t.Errorf("ExtendVolume to a smaller size: %+v, %v; want success with %d bytes", got, err, v.SizeBytes)
		}
	})
	k.clause(t, "F2/snapshot-by-id", func(t *testing.T) {
		k.need(t, f.Snapshots, "snapshots")
		v := k.create(t, k.request(k.size))
		req := sdk.CreateSnapshotRequest{ID: k.newID("snapshot"), Name: "drivertest", Volume: v.Ref()}
		s, err := k.client.CreateSnapshot(ctx(t), req)
		if err != nil {
			t.Fatalf("CreateSnapshot: %v", err)
		}
		t.Cleanup(func() { _ = k.client.DeleteSnapshot(ctx(t), s.Ref()) })
		if s.SourceVolumeID != v.ID || s.SizeBytes < v.SizeBytes {
			t.Errorf("snapshot %+v of volume %+v", s, v)
		}
		again, err := k.client.CreateSnapshot(ctx(t), req)
		if err != nil || !sameMap(again.ProviderData, s.ProviderData) {
			t.Errorf("repeated CreateSnapshot: %+v, %v; first %+v", again, err, s)
		}
		other := k.create(t, k.request(k.size))
		req.Volume = other.Ref()
		_, err = k.client.CreateSnapshot(ctx(t), req)
		wantCode(t, err, sdk.AlreadyExists, "CreateSnapshot of an existing ID from another volume")
		if err := k.client.DeleteSnapshot(ctx(t), s.Ref()); err != nil {
			t.Fatalf("DeleteSnapshot: %v", err)
		}
		if err := k.client.DeleteSnapshot(ctx(t), s.Ref()); err != nil {
			t.Errorf("DeleteSnapshot of a deleted snapshot: %v", err)
		}
	})
	k.clause(t, "F3/volume-from-snapshot", func(t *testing.T) {
		k.need(t, f.Snapshots && f.CreateFromSnapshot, "create_from_snapshot")
		s := k.snapshot(t, k.create(t, k.request(k.size)))
		k.copyClause(t, func(req sdk.CreateVolumeRequest) (sdk.Volume, error) {
			return k.client.CreateVolumeFromSnapshot(ctx(t), req, s.Ref())
		}, s.SizeBytes)
	})
	k.clause(t, "F4/clone", func(t *testing.T) {
		k.need(t, f.Clone, "clone")
		src := k.create(t, k.request(k.size))
		k.copyClause(t, func(req sdk.CreateVolumeRequest) (sdk.Volume, error) {
			return k.client.CloneVolume(ctx(t), req, src.Ref())
		}, src.SizeBytes)
	})
	k.clause(t, "F5/delete-volume-with-snapshots", func(t *testing.T) {
		k.need(t, f.Snapshots, "snapshots")
		v := k.create(t, k.request(k.size))
		s := k.snapshot(t, v)
		err := k.client.DeleteVolume(ctx(t), v.Ref())
		if !f.IndependentSnapshots {
			wantCode(t, err, sdk.InUse, "DeleteVolume of a volume with snapshots (pool declares dependent snapshots)")
			return
		}
		if err != nil {
			t.Fatalf("DeleteVolume of a volume with snapshots (pool declares independent snapshots): %v", err)
		}
		if f.CreateFromSnapshot {
			restored, err := k.client.CreateVolumeFromSnapshot(ctx(t), k.request(s.SizeBytes), s.Ref())
			if err != nil {
				t.Fatalf("restoring a snapshot whose volume was deleted: %v", err)
			}
			k.remove(t, restored)
		}
	})
}

// copyClause checks a create-from-source: the copy, its idempotency with the source in the
// comparison, and a larger size honoured or refused with OutOfRange.
func (k *kit) copyClause(t *testing.T, copyTo func(sdk.CreateVolumeRequest) (sdk.Volume, error), srcSize int64) {
	t.Helper()
	req := k.request(srcSize)
	v, err := copyTo(req)
	if err != nil {
		t.Fatalf("copy: %v", err)
	}
	t.Cleanup(func() { _ = k.client.DeleteVolume(ctx(t), v.Ref()) })
	if v.SizeBytes < srcSize {
		t.Errorf("copy has %d bytes, source %d", v.SizeBytes, srcSize)
	}
	again, err := copyTo(req)
	if err != nil || !sameMap(again.ProviderData, v.ProviderData) {
		t.Errorf("repeated copy: %+v, %v; first %+v", again, err, v)
	}
	if _, err := k.client.CreateVolume(ctx(t), req); sdk.CodeOf(err) != sdk.AlreadyExists {
		t.Errorf("CreateVolume (no source) of the copy's ID: %v, want AlreadyExists", err)
	}
	bigger := k.request(2 * srcSize)
	big, err := copyTo(bigger)
	switch {
	case err == nil:
		t.Cleanup(func() { _ = k.client.DeleteVolume(ctx(t), big.Ref()) })
		if big.SizeBytes < bigger.SizeBytes {
			t.Errorf("larger copy has %d bytes, asked %d", big.SizeBytes, bigger.SizeBytes)
		}
	case sdk.CodeOf(err) != sdk.OutOfRange:
		t.Errorf("larger copy: %v, want success or OutOfRange", err)
	}
}
