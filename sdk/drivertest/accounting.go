package drivertest

import (
	"errors"
	"strconv"
	"testing"

	"github.com/kilnstorage/kiln/sdk"
)

func accountingClauses(t *testing.T, k *kit) {
	k.clause(t, "A1/thick-create-uses-free", func(t *testing.T) {
		k.needThick(t)
		before := k.poolNow(t)
		v := k.create(t, thick(k.request(k.size)))
		after := k.poolNow(t)
		if used := before.FreeBytes - after.FreeBytes; used < v.SizeBytes-k.slack {
			t.Errorf("a thick %d-byte volume lowered free bytes by %d", v.SizeBytes, used)
		}
	})
	k.clause(t, "A2/delete-gives-back", func(t *testing.T) {
		k.needThick(t)
		before := k.poolNow(t)
		v := k.create(t, thick(k.request(k.size)))
		k.remove(t, v)
		after := k.poolNow(t)
		if diff := before.FreeBytes - after.FreeBytes; diff > k.slack || -diff > k.slack {
			t.Errorf("create and delete of %d bytes moved free bytes from %d to %d", v.SizeBytes, before.FreeBytes, after.FreeBytes)
		}
	})
	k.clause(t, "A3/thin-create-provisions", func(t *testing.T) {
		k.need(t, k.pool.Thin && measurable(k.pool), "thin provisioning with known capacity")
		before := k.poolNow(t)
		v := k.create(t, thin(k.request(k.size)))
		after := k.poolNow(t)
		if grown := after.ProvisionedBytes - before.ProvisionedBytes; grown < v.SizeBytes-k.slack {
			t.Errorf("a thin %d-byte volume raised provisioned bytes by %d", v.SizeBytes, grown)
		}
	})
	k.clause(t, "A4/fill-NoSpace", func(t *testing.T) {
		k.needThick(t)
		p := k.poolNow(t)
		need := roundUp(p.FreeBytes+k.slack+1, p.GranularityBytes)
		if p.MaxVolumeBytes > 0 && need > p.MaxVolumeBytes {
			t.Skipf("the pool's free space (%d) exceeds its largest volume (%d)", p.FreeBytes, p.MaxVolumeBytes)
		}
		req := thick(k.request(need))
		_, err := k.client.CreateVolume(ctx(t), req)
		if err == nil {
			_ = k.client.DeleteVolume(ctx(t), sdk.VolumeRef{ID: req.ID, Pool: req.Pool})
		}
		wantCode(t, err, sdk.NoSpace, "a thick create larger than the free space")
		var e *sdk.Error
		if !errors.As(err, &e) {
			return
		}
		for _, key := range []string{"need_bytes", "free_bytes"} {
			if _, perr := strconv.ParseInt(e.Meta[key], 10, 64); perr != nil {
				t.Errorf("NoSpace metadata %s = %q, want bytes", key, e.Meta[key])
			}
		}
	})
}

func (k *kit) needThick(t *testing.T) {
	t.Helper()
	k.need(t, k.pool.Thick && measurable(k.pool), "thick provisioning with known capacity")
}

func errorClauses(t *testing.T, k *kit) {
	f := k.features()
	missing := func(kind string) string { return k.newID(kind) }
	k.clause(t, "E1/missing-volume-NotFound", func(t *testing.T) {
		k.need(t, k.caps().Inspect, "GetVolume")
		_, err := k.client.GetVolume(ctx(t), sdk.VolumeRef{ID: missing("volume"), Pool: k.pool.Name})
		wantCode(t, err, sdk.NotFound, "GetVolume of a missing volume")
	})
	k.clause(t, "E2/missing-snapshot-NotFound", func(t *testing.T) {
		k.need(t, f.CreateFromSnapshot, "create_from_snapshot")
		src := sdk.SnapshotRef{ID: missing("snapshot"), SourceVolumeID: missing("volume"), Pool: k.pool.Name}
		_, err := k.client.CreateVolumeFromSnapshot(ctx(t), k.request(k.size), src)
		wantCode(t, err, sdk.NotFound, "CreateVolumeFromSnapshot of a missing snapshot")
	})
	k.clause(t, "E3/missing-clone-source-NotFound", func(t *testing.T) {
		k.need(t, f.Clone, "clone")
		src := sdk.VolumeRef{ID: missing("volume"), Pool: k.pool.Name}
		_, err := k.client.CloneVolume(ctx(t), k.request(k.size), src)
		wantCode(t, err, sdk.NotFound, "CloneVolume of a missing volume")
	})
	k.clause(t, "E4/extend-missing-NotFound", func(t *testing.T) {
		k.need(t, f.Extend, "extend")
		_, err := k.client.ExtendVolume(ctx(t), sdk.VolumeRef{ID: missing("volume"), Pool: k.pool.Name}, k.size)
		wantCode(t, err, sdk.NotFound, "ExtendVolume of a missing volume")
	})
	k.clause(t, "E5/snapshot-missing-NotFound", func(t *testing.T) {
		k.need(t, f.Snapshots, "snapshots")
		req := sdk.CreateSnapshotRequest{ID: missing("snapshot"),
			Volume: sdk.VolumeRef{ID: missing("volume"), Pool: k.pool.Name}}
		_, err := k.client.CreateSnapshot(ctx(t), req)
		wantCode(t, err, sdk.NotFound, "CreateSnapshot of a missing volume")
	})
}
