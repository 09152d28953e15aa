package drivertest

import (
	"errors"
	"strings"
	"testing"

	"github.com/kilnstorage/kiln/sdk"
)

// groups run in this order; later groups rely on nothing earlier ones leave behind.
var groups = []func(t *testing.T, k *kit){
	configClauses, capacityClauses, idempotencyClauses, sizeClauses, featureClauses,
	accountingClauses, errorClauses, concurrencyClauses, cancellationClauses, restartClauses,
	hygieneClauses, cleanlinessClauses,
}

// clause runs one clause as a subtest named by its ID, unless Config.Skip names it or its
// group.
func (k *kit) clause(t *testing.T, id string, fn func(t *testing.T)) {
	t.Helper()
	t.Run(id, func(t *testing.T) {
		for key := id; key != ""; key = parent(key) {
			if why, ok := k.cfg.Skip[key]; ok {
				t.Skipf("skipped by Config.Skip[%q]: %s", key, why)
			}
		}
		fn(t)
	})
}

// parent returns "I1" for "I1/same-args-ok", "I" for "I1" and "" for "I".
func parent(id string) string {
	if i := strings.LastIndexByte(id, '/'); i >= 0 {
		return id[:i]
	}
	if len(id) > 1 {
		return id[:1]
	}
	return ""
}

// needMeasurable skips a clause that counts backend objects when the driver neither lists its
// volumes nor reports provisioned bytes.
func (k *kit) needMeasurable(t *testing.T) {
	t.Helper()
	if !k.caps().List && k.pool.ProvisionedBytes == 0 && !(k.pool.Thick && measurable(k.pool)) {
		t.Skip("the driver neither lists volumes nor reports provisioned or thick free bytes: objects cannot be counted")
	}
}

// need skips the clause unless the kit's pool advertises the feature.
func (k *kit) need(t *testing.T, has bool, feature string) {
	t.Helper()
	if !has {
		t.Skipf("pool %s does not advertise %s", k.pool.Name, feature)
	}
}

func (k *kit) caps() sdk.Capabilities { return k.client.Info().Capabilities }

func (k *kit) features() sdk.FeatureSet { return *k.pool.Features }

// request is a create request for a new kit volume of size bytes in the kit's pool.
func (k *kit) request(size int64) sdk.CreateVolumeRequest {
	return sdk.CreateVolumeRequest{ID: k.newID("volume"), Name: "drivertest", SizeBytes: size,
		Pool: k.pool.Name, Labels: map[string]string{"kiln/test": "drivertest"}}
}

// thick and thin narrow a request to one provisioning type the pool offers.
func thick(r sdk.CreateVolumeRequest) sdk.CreateVolumeRequest { r.Thin = new(false); return r }
func thin(r sdk.CreateVolumeRequest) sdk.CreateVolumeRequest  { r.Thin = new(true); return r }

func (k *kit) create(t testing.TB, req sdk.CreateVolumeRequest) sdk.Volume {
	t.Helper()
	v, err := k.client.CreateVolume(ctx(t), req)
	if err != nil {
		t.Fatalf("CreateVolume(%s, %d bytes): %v", req.ID, req.SizeBytes, err)
	}
	t.Cleanup(func() { _ = k.client.DeleteVolume(ctx(t), v.Ref()) })
	return v
}

func (k *kit) remove(t testing.TB, v sdk.Volume) {
	t.Helper()
	if err := k.client.DeleteVolume(ctx(t), v.Ref()); err != nil {
		t.Fatalf("DeleteVolume(%s): %v", v.ID, err)
	}
}

func (k *kit) snapshot(t testing.TB, v sdk.Volume) sdk.Snapshot {
	t.Helper()
	s, err := k.client.CreateSnapshot(ctx(t), sdk.CreateSnapshotRequest{ID: k.newID("snapshot"),
		Name: "drivertest", Volume: v.Ref()})
	if err != nil {
		t.Fatalf("CreateSnapshot of %s: %v", v.ID, err)
	}
	t.Cleanup(func() { _ = k.client.DeleteSnapshot(ctx(t), s.Ref()) })
	return s
}

// wantCode fails unless err carries code and a non-empty reason.
func wantCode(t testing.TB, err error, code sdk.Code, what string) {
	t.Helper()
	if got := sdk.CodeOf(err); got != code {
		t.Fatalf("%s: got %v (code %v), want code %v", what, err, got, code)
	}
	var e *sdk.Error
	if errors.As(err, &e) && e.Reason == "" {
		t.Errorf("%s: error %v has no reason", what, err)
	}
}

// poolNow returns a fresh report of the kit's pool.
func (k *kit) poolNow(t testing.TB) sdk.Pool {
	t.Helper()
	report, err := k.client.Capacity(ctx(t))
	if err != nil {
		t.Fatalf("Capacity: %v", err)
	}
	p, ok := report.Pool(k.pool.Name)
	if !ok {
		t.Fatalf("pool %s vanished from the report", k.pool.Name)
	}
	return p
}

// listed returns every volume ListVolumes reports, page by page.
func (k *kit) listed(t testing.TB) map[string]sdk.Volume {
	t.Helper()
	out := make(map[string]sdk.Volume)
	req := sdk.ListRequest{Limit: 100}
	for pages := 0; ; pages++ {
		page, err := k.client.ListVolumes(ctx(t), req)
		if err != nil {
			t.Fatalf("ListVolumes: %v", err)
		}
		for _, v := range page.Volumes {
			if _, dup := out[v.ID]; dup {
				t.Errorf("ListVolumes reports %s twice", v.ID)
			}
			out[v.ID] = v
		}
		if page.NextPageToken == "" {
			return out
		}
		if pages > 100000 {
			t.Fatal("ListVolumes never ends")
		}
		req.PageToken = page.NextPageToken
	}
}

// countListed counts how many listed volumes have id; -1 when the driver cannot list.
func (k *kit) countListed(t testing.TB, id string) int {
	t.Helper()
	if !k.caps().List {
		return -1
	}
	if _, ok := k.listed(t)[id]; ok {
		return 1
	}
	return 0
}
