package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestArgs pins the argument vector of every lvm2 command the driver runs.
func TestArgs(t *testing.T) {
	thick := spec{pool: testPools[0], id: "v1", size: gib, labels: []string{"kiln.label.project=demo"}}
	thin := spec{pool: testPools[1], id: "v2", size: 2 * gib, srcSnap: "s1", copy: true}
	origin := lvRef{vg: "kiln", name: "kiln-volume-v1"}
	snapTags := []string{"kiln.id=s1", "kiln.kind=snapshot", "kiln.source-volume=v1"}
	tests := []struct {
		name string
		got  []string
		want string
	}{
		{"create thick", createArgs(thick),
			"lvcreate --yes --name kiln-volume-v1 --size 1073741824b --addtag kiln.id=v1 --addtag kiln.kind=volume --addtag kiln.label.project=demo kiln"},
		{"create thin", createArgs(spec{pool: testPools[1], id: "v3", size: gib, params: "0123456789abcdef"}),
			"lvcreate --yes --name kiln-volume-v3 --virtualsize 1073741824b --thinpool kiln/pool0 --addtag kiln.id=v3 --addtag kiln.kind=volume --addtag kiln.params=0123456789abcdef"},
		{"thick snapshot", snapshotArgs(origin, "kiln-snapshot-s1", gib, snapTags),
			"lvcreate --yes --name kiln-snapshot-s1 --snapshot --size 1073741824b --addtag kiln.id=s1 --addtag kiln.kind=snapshot --addtag kiln.source-volume=v1 kiln/kiln-volume-v1"},
		{"thin snapshot", snapshotArgs(origin, "kiln-snapshot-s1", 0, snapTags),
			"lvcreate --yes --name kiln-snapshot-s1 --snapshot --addtag kiln.id=s1 --addtag kiln.kind=snapshot --addtag kiln.source-volume=v1 kiln/kiln-volume-v1"},
		{"thin copy", thinCopyArgs(lvRef{vg: "kiln", name: "kiln-snapshot-s1"}, thin),
			"lvcreate --yes --name kiln-volume-v2 --snapshot --setactivationskip n --addtag kiln.id=v2 --addtag kiln.kind=volume --addtag kiln.source-snapshot=s1 --addtag kiln.incomplete kiln/kiln-snapshot-s1"},
		{"remove, asking", removeArgs(origin, false), "lvremove kiln/kiln-volume-v1"},
		{"remove, forced", removeArgs(origin, true), "lvremove --force kiln/kiln-volume-v1"},
		{"extend", extendArgs(origin, 3*gib), "lvextend --size 3221225472b kiln/kiln-volume-v1"},
		{"complete", completeArgs(origin), "lvchange --deltag kiln.incomplete kiln/kiln-volume-v1"},
		{"activate", activateArgs(origin, true), "lvchange --activate y kiln/kiln-volume-v1"},
		{"lvs", lvsArgs("kiln/kiln-volume-v1"), "lvs --reportformat json --units b --nosuffix -o " + lvColumns + " kiln/kiln-volume-v1"},
		{"dependents", dependentsArgs(origin),
			"lvs --reportformat json --units b --nosuffix -o " + lvColumns + ` -S lv_name="kiln-volume-v1" || origin="kiln-volume-v1" kiln`},
		{"vgs", vgsArgs("kiln", "other"), "vgs --reportformat json --units b --nosuffix -o " + vgColumns + " kiln other"},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, strings.Join(tt.got, " ")); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

// TestDevicePaths: device-mapper names double the dashes of the VG and LV names.
func TestDevicePaths(t *testing.T) {
	lv := lvRef{vg: "vg-a", name: "kiln-snapshot-s1"}
	if got, want := lv.device(), "/dev/mapper/vg--a-kiln--snapshot--s1"; got != want {
		t.Errorf("device = %s, want %s", got, want)
	}
	if got, want := lv.cow(), "/dev/mapper/vg--a-kiln--snapshot--s1-cow"; got != want {
		t.Errorf("cow = %s, want %s", got, want)
	}
}
