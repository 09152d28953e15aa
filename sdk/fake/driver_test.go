package fake

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kilnstorage/kiln/sdk"
)

// newDriver builds a driver on cfg, in a fresh state directory unless cfg names one.
func newDriver(t *testing.T, cfg Config) *Driver {
	t.Helper()
	if cfg.StateDir == "" {
		cfg.StateDir = t.TempDir()
	}
	d, err := New(context.Background(), cfg, sdk.Env{Backend: "test"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { d.Close(context.Background()) })
	return d
}

// mustCreate creates a volume of size bytes in pool and fails the test on error.
func mustCreate(t *testing.T, d *Driver, id, pool string, size int64) sdk.Volume {
	t.Helper()
	v, err := d.CreateVolume(context.Background(), sdk.CreateVolumeRequest{ID: id, Pool: pool, SizeBytes: size})
	if err != nil {
		t.Fatalf("CreateVolume(%s): %v", id, err)
	}
	return v
}

func mustSnapshot(t *testing.T, d *Driver, id string, vol sdk.Volume) sdk.Snapshot {
	t.Helper()
	s, err := d.CreateSnapshot(context.Background(), sdk.CreateSnapshotRequest{ID: id, Volume: vol.Ref()})
	if err != nil {
		t.Fatalf("CreateSnapshot(%s): %v", id, err)
	}
	return s
}

// pool returns the named pool of d's capacity report.
func pool(t *testing.T, d *Driver, name string) sdk.Pool {
	t.Helper()
	c, err := d.Capacity(context.Background())
	if err != nil {
		t.Fatalf("Capacity: %v", err)
	}
	p, ok := c.Pool(name)
	if !ok {
		t.Fatalf("no pool %q in %+v", name, c.Pools)
	}
	return p
}

// wantCode fails the test unless err has code, and reason when reason is not empty.
func wantCode(t *testing.T, err error, code sdk.Code, reason string) {
	t.Helper()
	var reasonGot string
	if e, ok := err.(*sdk.Error); ok {
		reasonGot = e.Reason
	}
	if sdk.CodeOf(err) != code || (reason != "" && reasonGot != reason) {
		t.Fatalf("error %v: want code %v reason %q", err, code, reason)
	}
}

func TestCapacityDefaults(t *testing.T) {
	c, err := newDriver(t, Config{}).Capacity(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []sdk.Pool{
		{Name: "fast", TotalBytes: 100 * gib, FreeBytes: 100 * gib, Thick: true, GranularityBytes: mib},
		{Name: "slow", TotalBytes: 1 << 40, FreeBytes: 1 << 40, Thin: true, GranularityBytes: mib,
			MaxOversubscription: 20},
	}
	if diff := cmp.Diff(want, c.Pools); diff != "" {
		t.Errorf("pools (-want +got):\n%s", diff)
	}
}

func TestCapacityConfigured(t *testing.T) {
	d := newDriver(t, Config{Pools: []Pool{{Name: "p", Total: 10 * gib, Thin: true, Thick: true,
		MinVolume: mib, MaxVolume: gib, State: "degraded", Attributes: map[string]string{"tier": "gold"},
		Features: &Features{Snapshots: true, Protocols: []string{"local"}}}}})
	want := sdk.Pool{Name: "p", State: sdk.PoolDegraded,
		StateReason: "state degraded set in the fake driver's configuration",
		TotalBytes:  10 * gib, FreeBytes: 10 * gib, Thin: true, Thick: true,
		MinVolumeBytes: mib, MaxVolumeBytes: gib,
		Features:   &sdk.FeatureSet{Snapshots: true, Protocols: []string{"local"}},
		Attributes: map[string]sdk.Attribute{"tier": sdk.StringAttr("gold")}}
	if diff := cmp.Diff(want, pool(t, d, "p")); diff != "" {
		t.Errorf("pool (-want +got):\n%s", diff)
	}
}

func TestCapacityAccounting(t *testing.T) {
	d := newDriver(t, Config{})
	ctx := context.Background()
	mustCreate(t, d, "thick", "fast", 10*gib)
	mustCreate(t, d, "thin", "slow", 10*gib)
	if _, err := d.ExtendVolume(ctx, sdk.VolumeRef{ID: "thick"}, 12*gib); err != nil {
		t.Fatal(err)
	}
	mustSnapshot(t, d, "snap", sdk.Volume{ID: "thin"})
	type usage struct{ Free, Provisioned int64 }
	got := map[string]usage{}
	for _, name := range []string{"fast", "slow"} {
		p := pool(t, d, name)
		got[name] = usage{p.FreeBytes, p.ProvisionedBytes}
	}
	want := map[string]usage{"fast": {88 * gib, 12 * gib}, "slow": {1 << 40, 10 * gib}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}
	if err := d.DeleteVolume(ctx, sdk.VolumeRef{ID: "thick"}); err != nil {
		t.Fatal(err)
	}
	if free := pool(t, d, "fast").FreeBytes; free != 100*gib {
		t.Errorf("fast free after delete = %d, want %d", free, 100*gib)
	}
}

func TestCapacityReportIsACopy(t *testing.T) {
	d := newDriver(t, Config{Pools: []Pool{{Name: "p", Total: gib, Attributes: map[string]string{"a": "b"},
		Features: &Features{Protocols: []string{"local"}}}}})
	p := pool(t, d, "p")
	p.Attributes["a"] = sdk.StringAttr("changed")
	p.Features.Protocols[0] = "changed"
	if diff := cmp.Diff(sdk.StringAttr("b"), pool(t, d, "p").Attributes["a"]); diff != "" {
		t.Errorf("attribute changed through an earlier report:\n%s", diff)
	}
	if got := pool(t, d, "p").Features.Protocols[0]; got != "local" {
		t.Errorf("protocol changed through an earlier report: %q", got)
	}
}

func TestProbe(t *testing.T) {
	d := newDriver(t, Config{})
	if err := d.Probe(context.Background()); err != nil {
		t.Fatalf("Probe: %v", err)
	}
	d.dir += "/missing"
	wantCode(t, d.Probe(context.Background()), sdk.Unavailable, "BACKEND_UNAVAILABLE")
	if err := d.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	_, err := New(context.Background(), Config{StateDir: t.TempDir(), Bugs: []string{"typo"}}, sdk.Env{})
	wantCode(t, err, sdk.InvalidArgument, "INVALID_CONFIG")
	_, err = New(context.Background(), Config{StateDir: t.TempDir()}, sdk.Env{Backend: "../x"})
	wantCode(t, err, sdk.InvalidArgument, "INVALID_BACKEND")
}
