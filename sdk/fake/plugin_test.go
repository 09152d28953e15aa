package fake

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kilnstorage/kiln/sdk"
)

// TestPlugin configures the fake through the SDK, which checks its schema, decodes its
// configuration and checks its capacity reports.
func TestPlugin(t *testing.T) {
	ctx := context.Background()
	c := sdk.Direct(Plugin)
	raw := fmt.Sprintf(`{"state_dir": %q, "pool": [{"name": "p", "total": "10GiB", "features": {"snapshots": true}}, {"name": "q"}]}`, t.TempDir())
	if _, err := c.Configure(ctx, sdk.ConfigureRequest{Backend: "b", Config: []byte(raw)}); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	want := sdk.Capabilities{Snapshots: true, CreateFromSnapshot: true, Clone: true, Extend: true,
		Inspect: true, List: true, Connect: true, Probe: true, Close: true}
	if diff := cmp.Diff(want, c.Info().Capabilities); diff != "" {
		t.Errorf("capabilities (-want +got):\n%s", diff)
	}
	capa, err := c.Capacity(ctx)
	if err != nil {
		t.Fatalf("Capacity: %v", err)
	}
	if p, _ := capa.Pool("p"); p.Features == nil || p.Features.Clone {
		t.Errorf("pool p features = %+v, want only snapshots", p.Features)
	}
	v, err := c.CreateVolume(ctx, sdk.CreateVolumeRequest{ID: "v", Pool: "q", SizeBytes: 1})
	if err != nil || v.SizeBytes != mib {
		t.Fatalf("CreateVolume = %+v, %v; want %d bytes (rounded by the SDK)", v, err, mib)
	}
	_, err = c.CloneVolume(ctx, sdk.CreateVolumeRequest{ID: "w", Pool: "p", SizeBytes: mib}, v.Ref())
	if sdk.CodeOf(err) != sdk.Unsupported {
		t.Errorf("clone into a pool without clone: %v, want Unsupported", err)
	}
}
