package main

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kilnstorage/kiln/sdk"
)

// replay answers lvs from the rows of testdata/lvs-thin.hand.json (dependents by selection)
// and every changing command with success, unless fail names it.
func replay(t testing.TB, fail map[string]string) *fakeLVM {
	rows := testRows(t)
	return &fakeLVM{reply: func(args []string) (string, string, int) {
		if stderr, ok := fail[args[0]]; ok {
			return "", stderr, 5
		}
		if args[0] != "lvs" {
			return "", "", 0
		}
		if sel := args[len(args)-2]; len(args) > 2 && args[len(args)-3] == "-S" {
			var out []lvRow
			for _, r := range rows {
				if sel == `lv_name="`+r.Name+`" || origin="`+r.Name+`"` || sel == `lv_name="`+r.Origin+`" || origin="`+r.Origin+`"` {
					out = append(out, r)
				}
			}
			return reportOf(out...), "", 0
		}
		return lvsReply(rows, args)
	}}
}

func TestCreateSnapshot(t *testing.T) {
	tests := []struct {
		name, pool, volume string
		want               []string
		size               int64
	}{
		{"thick copy-on-write", "thick", "c", []string{"lvs kiln/kiln-volume-c", "lvcreate kiln/kiln-volume-c"}, 2 * gib},
		{"thin", "thin", "a", []string{"lvs kiln/kiln-volume-a", "lvcreate kiln/kiln-volume-a"}, 4 * gib},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := replay(t, nil)
			d := testDriver(f, true, &fakeDevices{})
			s, err := d.CreateSnapshot(context.Background(), sdk.CreateSnapshotRequest{ID: "s9",
				Volume: sdk.VolumeRef{ID: tt.volume, Pool: tt.pool}})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, f.commands()); diff != "" {
				t.Errorf("commands (-want +got):\n%s", diff)
			}
			if s.SizeBytes != tt.size || s.SourceVolumeID != tt.volume || !s.Ready {
				t.Errorf("snapshot %+v", s)
			}
			if size := f.calls[1]; (tt.pool == "thick") != cmp.Equal(size[5:7], []string{"--size", itoa(tt.size) + "b"}) {
				t.Errorf("lvcreate %v: a thick snapshot reserves the origin's size, a thin one none", size)
			}
		})
	}
}

// TestCreateSnapshotOfOtherVolume: a repeated snapshot ID of another volume is AlreadyExists.
func TestCreateSnapshotOfOtherVolume(t *testing.T) {
	f := replay(t, map[string]string{"lvcreate": fixture(t, "lv-exists.txt")})
	d := testDriver(f, true, &fakeDevices{})
	_, err := d.CreateSnapshot(context.Background(), sdk.CreateSnapshotRequest{ID: "s1",
		Volume: sdk.VolumeRef{ID: "b", Pool: "thin"}})
	if sdk.CodeOf(err) != sdk.AlreadyExists {
		t.Errorf("CreateSnapshot of s1 (a snapshot of a) from b: %v, want AlreadyExists", err)
	}
}

// TestDeleteWithSnapshots: a volume with a snapshot is InUse and nothing is removed, with
// activation on (checked first) or off (lvremove refuses, then the check explains why).
func TestDeleteWithSnapshots(t *testing.T) {
	for _, active := range []bool{true, false} {
		f := replay(t, map[string]string{"lvremove": fixture(t, "origin-remove-refused.hand.txt")})
		d := testDriver(f, active, &fakeDevices{})
		err := d.DeleteVolume(context.Background(), sdk.VolumeRef{ID: "c", Pool: "thick"})
		if sdk.CodeOf(err) != sdk.InUse {
			t.Errorf("activation %v: DeleteVolume of a volume with a snapshot = %v, want InUse", active, err)
		}
	}
}

// TestDeleteWipes: with activation on, a thick volume is zeroed before lvremove --force; a thin
// one is not.
func TestDeleteWipes(t *testing.T) {
	rows := append(testRows(t), lvRow{Name: "kiln-volume-e", VG: "kiln", Size: "1073741824",
		Attr: "-wi-a-----", Tags: "kiln.id=e,kiln.kind=volume"})
	f := replay(t, nil)
	reply := f.reply
	f.reply = func(args []string) (string, string, int) {
		if args[0] == "lvs" && args[len(args)-2] == `lv_name="kiln-volume-e" || origin="kiln-volume-e"` {
			return reportOf(rows[len(rows)-1]), "", 0
		}
		return reply(args)
	}
	dev := &fakeDevices{}
	d := testDriver(f, true, dev)
	for _, ref := range []sdk.VolumeRef{{ID: "e", Pool: "thick"}, {ID: "d", Pool: "meta"}} {
		if err := d.DeleteVolume(context.Background(), ref); err != nil {
			t.Fatalf("DeleteVolume(%s): %v", ref.ID, err)
		}
	}
	if diff := cmp.Diff([]string{"wipe zero /dev/mapper/kiln-kiln--volume--e"}, dev.ops); diff != "" {
		t.Errorf("device work (-want +got):\n%s", diff)
	}
	want := []string{"lvs kiln", "lvremove kiln/kiln-volume-e", "lvs kiln", "lvremove kiln/kiln-volume-d"}
	if diff := cmp.Diff(want, f.commands()); diff != "" {
		t.Errorf("commands (-want +got):\n%s", diff)
	}
}

// TestCloneThick: a temporary snapshot of the source is copied into the new LV, then removed,
// and the copy is marked complete last.
func TestCloneThick(t *testing.T) {
	f, dev := replay(t, nil), &fakeDevices{}
	d := testDriver(f, true, dev)
	v, err := d.CloneVolume(context.Background(), sdk.CreateVolumeRequest{ID: "n1", Pool: "thick", SizeBytes: 3 * gib},
		sdk.VolumeRef{ID: "c", Pool: "thick"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"lvs kiln/kiln-volume-c", "lvcreate kiln", "lvcreate kiln/kiln-volume-c",
		"lvremove kiln/kiln-clone-n1", "lvchange kiln/kiln-volume-n1"}
	if diff := cmp.Diff(want, f.commands()); diff != "" {
		t.Errorf("commands (-want +got):\n%s", diff)
	}
	copied := []string{"copy /dev/mapper/kiln-kiln--clone--n1 /dev/mapper/kiln-kiln--volume--n1 " + itoa(2*gib)}
	if diff := cmp.Diff(copied, dev.ops); diff != "" {
		t.Errorf("device work (-want +got):\n%s", diff)
	}
	if v.SourceVolumeID != "c" || v.SizeBytes != 3*gib || v.Thin {
		t.Errorf("clone %+v", v)
	}
}

// TestRestoreThin: a volume from a thin snapshot is a thin snapshot of it, extended to the size
// asked, with no data copied.
func TestRestoreThin(t *testing.T) {
	f, dev := replay(t, nil), &fakeDevices{}
	d := testDriver(f, true, dev)
	v, err := d.CreateVolumeFromSnapshot(context.Background(),
		sdk.CreateVolumeRequest{ID: "n2", Pool: "thin", SizeBytes: 8 * gib}, sdk.SnapshotRef{ID: "s1", Pool: "thin"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"lvs kiln/kiln-snapshot-s1", "lvcreate kiln/kiln-snapshot-s1",
		"lvextend kiln/kiln-volume-n2", "lvchange kiln/kiln-volume-n2"}
	if diff := cmp.Diff(want, f.commands()); diff != "" {
		t.Errorf("commands (-want +got):\n%s", diff)
	}
	if len(dev.ops) != 0 || v.SourceSnapshotID != "s1" || !v.Thin {
		t.Errorf("restore %+v, device work %v", v, dev.ops)
	}
}

// TestCopyWithoutActivation: copies and snapshots are Unsupported, not attempted.
func TestCopyWithoutActivation(t *testing.T) {
	f := replay(t, nil)
	d := testDriver(f, false, &fakeDevices{})
	_, err := d.CloneVolume(context.Background(), sdk.CreateVolumeRequest{ID: "n3", Pool: "thick", SizeBytes: gib},
		sdk.VolumeRef{ID: "c", Pool: "thick"})
	_, serr := d.CreateSnapshot(context.Background(), sdk.CreateSnapshotRequest{ID: "s3",
		Volume: sdk.VolumeRef{ID: "c", Pool: "thick"}})
	if sdk.CodeOf(err) != sdk.Unsupported || sdk.CodeOf(serr) != sdk.Unsupported || len(f.calls) != 0 {
		t.Errorf("clone: %v; snapshot: %v; commands %v; want Unsupported and none", err, serr, f.commands())
	}
}
