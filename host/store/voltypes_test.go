package store_test

import (
	"errors"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/store/storetest"
)

func TestVolumeTypes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		s := db.Open(t)
		ctx := t.Context()
		gold, err := s.CreateVolumeType(ctx, store.VolumeType{Name: "gold", IsPublic: true,
			ExtraSpecs: map[string]string{"volume_backend_name": "lvm"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateVolumeType(ctx, store.VolumeType{Name: "gold"}); !errors.Is(err, store.ErrExists) {
			t.Fatalf("duplicate name: %v", err)
		}
		if err := s.SetExtraSpecs(ctx, gold.ID, map[string]string{"volume_backend_name": "lvm2", "thin": "<is> True"}); err != nil {
			t.Fatal(err)
		}
		got, err := s.VolumeTypeByName(ctx, "gold")
		want := gold
		want.ExtraSpecs = map[string]string{"volume_backend_name": "lvm2", "thin": "<is> True"}
		if err != nil || !cmp.Equal(want, got) {
			t.Fatalf("gold: %v\n%s", err, cmp.Diff(want, got))
		}
		all, err := s.VolumeTypes(ctx)
		if err != nil || len(all) != 2 || all[0].Name != store.DefaultTypeName || all[1].Name != "gold" {
			t.Fatalf("types: %+v, %v", all, err)
		}

		// Limits move with a rename; a type in use cannot change.
		if err := s.SetQuotaLimits(ctx, "p", store.Limits{"volumes_gold": 3}); err != nil {
			t.Fatal(err)
		}
		gold.Name, gold.Description = "platinum", "shiny"
		if err := s.UpdateVolumeType(ctx, gold); err != nil {
			t.Fatal(err)
		}
		if l, _ := s.QuotaLimits(ctx, "p"); l["volumes_platinum"] != 3 || l["volumes_gold"] != 0 {
			t.Errorf("limits after the rename: %v", l)
		}
		if _, err := s.CreateVolume(ctx, store.Volume{ProjectID: "p", UserID: "u", SizeBytes: gib, VolumeTypeID: gold.ID}, ""); err != nil {
			t.Fatal(err)
		}
		if u := usage(t, s, "p", "volumes_platinum")["volumes_platinum"]; u.InUse != 1 || u.Limit != 3 {
			t.Errorf("per-type usage: %+v", u)
		}
		gold.Name = "gold"
		for name, err := range map[string]error{
			"rename":      s.UpdateVolumeType(ctx, gold),
			"set spec":    s.SetExtraSpecs(ctx, gold.ID, map[string]string{"a": "b"}),
			"delete spec": s.DeleteExtraSpec(ctx, gold.ID, "thin"),
			"delete":      s.DeleteVolumeType(ctx, gold.ID),
		} {
			if !errors.Is(err, store.ErrInUse) {
				t.Errorf("%s of a type in use: %v", name, err)
			}
		}
		silver, err := s.CreateVolumeType(ctx, store.VolumeType{Name: "silver", ExtraSpecs: map[string]string{"k": "v"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteExtraSpec(ctx, silver.ID, "k"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteExtraSpec(ctx, silver.ID, "k"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("delete a missing spec: %v", err)
		}
		if err := s.DeleteVolumeType(ctx, silver.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.VolumeType(ctx, silver.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleted type: %v", err)
		}
		if _, err := s.CreateVolumeType(ctx, store.VolumeType{Name: "silver"}); err != nil {
			t.Errorf("reuse a deleted type's name: %v", err)
		}
		def, _ := s.VolumeTypeByName(ctx, store.DefaultTypeName)
		if err := s.DeleteVolumeType(ctx, def.ID); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("delete the default type: %v", err)
		}
	})
}

func TestServicesAndEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		s := db.Open(t)
		ctx := t.Context()
		for range 3 {
			if err := s.Heartbeat(ctx, "h1", "kiln-volume", "nova"); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.SetServiceDisabled(ctx, "h1", "kiln-volume", true, "maintenance"); err != nil {
			t.Fatal(err)
		}
		if err := s.Heartbeat(ctx, "h1", "kiln-volume", "nova"); err != nil {
			t.Fatal(err)
		}
		if err := s.SetServiceDisabled(ctx, "h9", "kiln-volume", true, ""); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("disable a missing service: %v", err)
		}
		svcs, err := s.Services(ctx)
		if err != nil || len(svcs) != 1 {
			t.Fatalf("services: %+v, %v", svcs, err)
		}
		if got := svcs[0]; got.ReportCount != 4 || !got.Disabled || got.DisabledReason != "maintenance" || got.UpdatedAt.IsZero() {
			t.Errorf("service: %+v", got)
		}

		for _, kind := range []string{"volume.create.start", "volume.create.end"} {
			if _, err := s.AddEvent(ctx, store.Event{VolumeID: "v", ProjectID: "p", Kind: kind}); err != nil {
				t.Fatal(err)
			}
		}
		evs, err := s.Events(ctx, "v")
		if err != nil || len(evs) != 2 || evs[0].Kind != "volume.create.start" || evs[1].ID <= evs[0].ID || string(evs[1].Detail) != "{}" {
			t.Fatalf("events: %+v, %v", evs, err)
		}
	})
}

// TestVolumeTypeName: the name a volume's view shows, cached, and forgotten on a rename.
func TestVolumeTypeName(t *testing.T) {
	s := storetest.Open(t)
	ctx := t.Context()
	vt, err := s.CreateVolumeType(ctx, store.VolumeType{Name: "silver", IsPublic: true})
	if err != nil {
		t.Fatal(err)
	}
	if name, err := s.VolumeTypeName(ctx, vt.ID); err != nil || name != "silver" {
		t.Fatalf("VolumeTypeName = %q, %v", name, err)
	}
	vt.Name = "bronze"
	if err := s.UpdateVolumeType(ctx, vt); err != nil {
		t.Fatal(err)
	}
	if name, err := s.VolumeTypeName(ctx, vt.ID); err != nil || name != "bronze" {
		t.Errorf("after the rename: %q, %v", name, err)
	}
	if _, err := s.VolumeTypeName(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown type: %v", err)
	}
}

func TestNewIDIsAVersion7UUIDThatGrowsWithTime(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	prev := store.NewID()
	seen := map[string]bool{prev: true}
	for range 1000 {
		id := store.NewID()
		if !re.MatchString(id) {
			t.Fatalf("NewID() = %q, not a version 7 UUID", id)
		}
		if seen[id] {
			t.Fatalf("NewID() repeated %q", id)
		}
		seen[id] = true
		// Within one millisecond the order is random; across milliseconds IDs only grow.
		if id[:13] < prev[:13] {
			t.Fatalf("NewID() went back in time: %q after %q", id, prev)
		}
		prev = id
	}
}
