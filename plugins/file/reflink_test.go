package main

import (
	"os"
	"testing"

	"github.com/kilnstorage/kiln/sdk"
	"golang.org/x/sys/unix"
)

// fakeClone plays FICLONE on a filesystem without it: it copies the whole file and counts its
// calls, so the reflink path of the driver runs on any filesystem.
type fakeClone struct{ calls int }

func (c *fakeClone) clone(dst, src int) error {
	c.calls++
	var st unix.Stat_t
	if err := unix.Fstat(src, &st); err != nil {
		return err
	}
	var roff, woff int64
	for roff < st.Size {
		if _, err := unix.CopyFileRange(src, &roff, dst, &woff, int(st.Size-roff), 0); err != nil {
			return err
		}
	}
	return unix.Ftruncate(dst, st.Size)
}

func TestCopyMethodDetected(t *testing.T) {
	d := testDriver(t, testConfig(t), fsops{})
	p := poolReport(t, d, "a")
	fs, method := p.Attributes["filesystem"].Str, p.Attributes["copy_method"].Str
	t.Logf("t.TempDir() is on %s; copy_method %s", fs, method)
	switch fs {
	case "ext4", "tmpfs":
		if method != copySparse {
			t.Errorf("%s has no reflink, yet copy_method is %q", fs, method)
		}
	case "xfs", "btrfs":
		if method != copyReflink {
			t.Errorf("%s has reflink, yet copy_method is %q", fs, method)
		}
	}
	if p.Attributes["fallocate"] != sdk.BoolAttr(true) || !p.Thick {
		t.Errorf("fallocate %+v, thick %v on %s", p.Attributes["fallocate"], p.Thick, fs)
	}
}

// TestReflinkPath runs clones, restores and snapshots through a pool whose probe found
// reflink, and checks that they use it, fall back to a copy when it is refused, and leave it
// alone when the configuration says so.
func TestReflinkPath(t *testing.T) {
	var fc fakeClone
	cfg := testConfig(t)
	cfg.Pools[1].Reflink = false
	d := testDriver(t, cfg, fsops{clone: fc.clone})
	if m := poolReport(t, d, "a").Attributes["copy_method"].Str; m != copyReflink {
		t.Fatalf("pool a: copy_method %q, want reflink", m)
	}
	if m := poolReport(t, d, "b").Attributes["copy_method"].Str; m != copySparse {
		t.Fatalf("pool b (reflink = false): copy_method %q, want sparse-copy", m)
	}
	src := mustCreate(t, d, "src", "a", 16*mib, true)
	writeAt(t, src.ProviderData["path"], 5*mib, []byte("payload"))
	ctx := t.Context()
	tests := []struct {
		id, pool string
		thin     bool
		method   string
	}{
		{"thin", "a", true, copyReflink},
		{"thick", "a", false, copyReflink},
		{"other-pool-no-reflink", "b", true, copySparse},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			before := fc.calls
			req := sdk.CreateVolumeRequest{ID: tt.id, Pool: tt.pool, SizeBytes: 32 * mib, Thin: &tt.thin}
			v, err := d.CloneVolume(ctx, req, src.Ref())
			if err != nil {
				t.Fatal(err)
			}
			if v.ProviderData["copy_method"] != tt.method || (fc.calls > before) != (tt.method == copyReflink) {
				t.Errorf("copy_method %q after %d FICLONE calls, want %q", v.ProviderData["copy_method"], fc.calls-before, tt.method)
			}
			if !tt.thin && allocated(t, v.ProviderData["path"]) < v.SizeBytes {
				t.Errorf("a thick clone allocates %d of %d bytes", allocated(t, v.ProviderData["path"]), v.SizeBytes)
			}
			got, _ := os.ReadFile(v.ProviderData["path"])
			if string(got[5*mib:5*mib+7]) != "payload" || int64(len(got)) != 32*mib {
				t.Errorf("the clone holds %d bytes without the payload", len(got))
			}
		})
	}
	s, err := d.CreateSnapshot(ctx, sdk.CreateSnapshotRequest{ID: "snap", Volume: src.Ref()})
	if err != nil || s.ProviderData["copy_method"] != copyReflink {
		t.Errorf("snapshot: %+v, %v; want copy_method reflink", s, err)
	}
}

// TestReflinkRefused: a FICLONE the kernel refuses (EXDEV, EOPNOTSUPP) falls back to a copy.
func TestReflinkRefused(t *testing.T) {
	refused := false // the probe sees reflink; the copies are refused
	sys := fsops{clone: func(dst, src int) error {
		if refused {
			return unix.EXDEV
		}
		return nil
	}}
	d := testDriver(t, testConfig(t), sys)
	refused = true
	src := mustCreate(t, d, "src", "a", 4*mib, true)
	writeAt(t, src.ProviderData["path"], 0, []byte("payload"))
	v, err := d.CloneVolume(t.Context(), sdk.CreateVolumeRequest{ID: "v", Pool: "a", SizeBytes: 4 * mib}, src.Ref())
	if err != nil || v.ProviderData["copy_method"] != copySparse {
		t.Fatalf("clone with FICLONE refused: %+v, %v", v, err)
	}
	sameContent(t, src.ProviderData["path"], v.ProviderData["path"])
}
