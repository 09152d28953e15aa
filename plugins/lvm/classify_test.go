package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kilnstorage/kiln/sdk"
)

// fixture reads a captured (or, for *.hand.txt, hand-written) stderr from testdata/stderr.
func fixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "stderr", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestClassify feeds every stderr fixture, with the exit status lvm2 gave it, through classify.
func TestClassify(t *testing.T) {
	const mib = 4 << 20 // the extent size of the captures' VGs
	tests := []struct {
		file   string
		exit   int
		code   sdk.Code
		reason string
		meta   map[string]string // expected entries of Meta, if any
	}{
		{"lv-exists.txt", 5, sdk.AlreadyExists, "LV_EXISTS", nil},
		{"vg-no-space.txt", 5, sdk.NoSpace, "VG_FULL",
			map[string]string{"need_bytes": "107374182400", "free_bytes": "8480882688"}},
		{"extend-no-space.txt", 5, sdk.NoSpace, "VG_FULL",
			map[string]string{"need_bytes": "107269324800", "free_bytes": "8480882688"}},
		{"alloc-no-space.hand.txt", 5, sdk.NoSpace, "VG_FULL", map[string]string{"need_bytes": "2147483648"}},
		{"vg-metadata-full.txt", 5, sdk.NoSpace, "VG_METADATA_FULL",
			map[string]string{"need_bytes": "523208", "free_bytes": "521472"}},
		{"thin-pool-full.hand.txt", 5, sdk.NoSpace, "THIN_POOL_FULL", nil},
		{"lv-not-found-remove.txt", 5, sdk.NotFound, "VOLUME_NOT_FOUND", map[string]string{"volume_id": "v1"}},
		{"lv-not-found-extend.txt", 5, sdk.NotFound, "VOLUME_NOT_FOUND", nil},
		{"lv-not-found-lvs.txt", 5, sdk.NotFound, "VOLUME_NOT_FOUND", nil},
		{"lv-not-found-change.txt", 5, sdk.NotFound, "VOLUME_NOT_FOUND", nil},
		{"origin-not-found.txt", 5, sdk.NotFound, "VOLUME_NOT_FOUND", nil},
		{"vg-not-found.txt", 5, sdk.Unavailable, "VG_NOT_FOUND", nil},
		{"thin-pool-not-found.txt", 5, sdk.Unavailable, "THIN_POOL_NOT_FOUND", nil},
		{"not-a-thin-pool.txt", 5, sdk.Unavailable, "THIN_POOL_NOT_FOUND", nil},
		{"no-dm-snapshot.txt", 5, sdk.Unavailable, "DEVICE_MAPPER_UNAVAILABLE", nil},
		{"no-dm-thin-pool.txt", 5, sdk.Unavailable, "DEVICE_MAPPER_UNAVAILABLE", nil},
		{"no-dm-activate.txt", 3, sdk.Unavailable, "DEVICE_MAPPER_UNAVAILABLE", nil},
		{"bad-name.txt", 3, sdk.Internal, "LVM_BAD_COMMAND_LINE", nil},
		{"vg-locked.txt", 5, sdk.Busy, "VG_LOCKED", nil},
		{"permission-denied.txt", 5, sdk.PermissionDenied, "LVM_PERMISSION_DENIED", nil},
		{"lv-in-use.hand.txt", 5, sdk.InUse, "LV_IN_USE", nil},
		{"lv-fs-in-use.hand.txt", 5, sdk.InUse, "LV_IN_USE", nil},
		{"origin-active-resize.hand.txt", 5, sdk.InUse, "LV_IN_USE", nil},
		{"origin-remove-refused.hand.txt", 5, sdk.Internal, "LVM_FAILED", nil},
	}
	s := scope{pool: "thick", extent: mib, kind: "volume", id: "v1"}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			err := classify(context.Background(), s, failure{args: []string{"lvcreate"}, exit: tt.exit, stderr: fixture(t, tt.file)})
			var e *sdk.Error
			if !errors.As(err, &e) {
				t.Fatalf("classify = %v, want an *sdk.Error", err)
			}
			if e.Code != tt.code || e.Reason != tt.reason {
				t.Errorf("classify = %v %s, want %v %s (%v)", e.Code, e.Reason, tt.code, tt.reason, err)
			}
			for k, v := range tt.meta {
				if e.Meta[k] != v {
					t.Errorf("Meta[%s] = %q, want %q", k, e.Meta[k], v)
				}
			}
			var cause *cmdError
			if !errors.As(err, &cause) {
				t.Errorf("the command's failure is not kept as the cause of %v", err)
			}
		})
	}
}

// TestClassifyContext: a command ended by its call's context is that context's error,
// whatever lvm2 printed.
func TestClassifyContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := classify(ctx, scope{}, failure{args: []string{"lvcreate"}, exit: -1, stderr: fixture(t, "vg-locked.txt")})
	if !errors.Is(err, context.Canceled) || sdk.CodeOf(err) != sdk.Canceled {
		t.Errorf("classify after cancel = %v (code %v), want context.Canceled", err, sdk.CodeOf(err))
	}
}

// TestFailureMessage: the message drops lvm2's warnings and keeps what went wrong.
func TestFailureMessage(t *testing.T) {
	got := failure{stderr: fixture(t, "vg-locked.txt")}.message()
	want := "/run/lock/lvm/V_kiln-capture: flock failed: Resource temporarily unavailable; " +
		"Can't get lock for kiln-capture.; Cannot process volume group kiln-capture"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("message (-want +got):\n%s", diff)
	}
}
