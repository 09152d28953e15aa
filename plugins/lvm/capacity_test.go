package main

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kilnstorage/kiln/sdk"
)

const (
	mib = int64(1) << 20
	gib = int64(1) << 30
)

// capacityLVM replays vgs and lvs from testdata; the VG "nothere" is missing, as lvm2 reports
// it: exit 5, and the report of the others.
func capacityLVM(t testing.TB) *fakeLVM {
	vgs, lvs := string(readTestdata(t, "vgs-thin.hand.json")), string(readTestdata(t, "lvs-thin.hand.json"))
	return &fakeLVM{reply: func(args []string) (string, string, int) {
		missing := "  Volume group \"nothere\" not found\n  Cannot process volume group nothere\n"
		if args[0] == "vgs" {
			return vgs, missing, 5
		}
		return lvs, missing, 5
	}}
}

// TestCapacityThin reads a thin pool's data and metadata use, a thick VG's free extents, a
// thin pool whose metadata is nearly full, and a missing VG.
func TestCapacityThin(t *testing.T) {
	d := testDriver(capacityLVM(t), true, nil)
	got, err := d.Capacity(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	all := &sdk.FeatureSet{Snapshots: true, CreateFromSnapshot: true, Clone: true, Extend: true}
	vgMeta := sdk.Resource{Name: "vg_metadata", Total: 522240, Free: 500224}
	attrs := func(typ string) map[string]sdk.Attribute {
		return map[string]sdk.Attribute{"vg": sdk.StringAttr("kiln"), "lvm_type": sdk.StringAttr(typ),
			"activation": sdk.BoolAttr(true), "wipe": sdk.StringAttr("zero")}
	}
	want := []sdk.Pool{
		{Name: "thick", Thick: true, TotalBytes: 107369988096, FreeBytes: 53687091200,
			ProvisionedBytes: 107369988096 - 53687091200, GranularityBytes: 4 * mib, Features: all,
			Resources: []sdk.Resource{vgMeta}, Attributes: attrs("thick")},
		{Name: "thin", Thin: true, TotalBytes: 10 * gib, FreeBytes: 10 * gib * 3 / 4,
			ProvisionedBytes: 4*gib + 4*gib + 8*gib, MaxOversubscription: 20, GranularityBytes: 4 * mib,
			Features: all, Attributes: attrs("thin"), Resources: []sdk.Resource{vgMeta,
				{Name: "thin_metadata", Total: 16 * mib, Free: 16 * mib * 7 / 8}}},
		{Name: "meta", Thin: true, TotalBytes: 4 * gib, FreeBytes: 4*gib - 429496730,
			ProvisionedBytes: gib, GranularityBytes: 4 * mib, Features: all, Attributes: attrs("thin"),
			State: sdk.PoolDegraded, StateReason: "thin pool pool1 metadata is 85.0% full",
			Resources: []sdk.Resource{vgMeta, {Name: "thin_metadata", Total: 8 * mib, Free: 8*mib - 7130317}}},
		{Name: "gone", Thick: true, State: sdk.PoolDown, StateReason: "volume group nothere not found",
			CapacityUnknown: true, Features: &sdk.FeatureSet{}, Attributes: attrs("thick")},
	}
	want[3].Attributes["vg"] = sdk.StringAttr("nothere")
	if diff := cmp.Diff(want, got.Pools); diff != "" {
		t.Errorf("pools (-want +got):\n%s", diff)
	}
}

// TestCapacityWithoutActivation: without device-mapper a thin pool is down and a thick one
// offers extend only, so that the host never routes snapshots or copies here.
func TestCapacityWithoutActivation(t *testing.T) {
	d := testDriver(capacityLVM(t), false, nil)
	got, err := d.Capacity(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	thick, _ := got.Pool("thick")
	if diff := cmp.Diff(&sdk.FeatureSet{Extend: true}, thick.Features); diff != "" || thick.State != sdk.PoolUp {
		t.Errorf("thick pool without activation: state %v, features (-want +got):\n%s", thick.State, diff)
	}
	thin, _ := got.Pool("thin")
	if thin.State != sdk.PoolDown || !cmp.Equal(*thin.Features, sdk.FeatureSet{}) {
		t.Errorf("thin pool without activation: state %v (%s), features %+v; want down with none", thin.State, thin.StateReason, thin.Features)
	}
	if thick.Attributes["wipe"].Str != "none" {
		t.Errorf("wipe attribute %+v, want none: there is no device to wipe", thick.Attributes["wipe"])
	}
}

// TestCapacityThick reads a real capture of a thick VG.
func TestCapacityThick(t *testing.T) {
	vgs := string(readTestdata(t, "vgs-thick.json"))
	d := testDriver(&fakeLVM{reply: func([]string) (string, string, int) { return vgs, "", 0 }}, false, nil)
	d.pools = []PoolConfig{{Name: "thick", VG: "kiln"}}
	got, err := d.Capacity(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p := got.Pools[0]
	if p.TotalBytes != 8585740288 || p.FreeBytes != 6975127552 || p.ProvisionedBytes != 1610612736 || p.GranularityBytes != 4*mib {
		t.Errorf("thick pool %+v", p)
	}
}
