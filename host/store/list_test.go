package store_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/store/storetest"
	"github.com/kilnstorage/kiln/host/volume"
)

func TestParseSort(t *testing.T) {
	tests := []struct {
		in      string
		want    []store.SortKey
		wantErr bool
	}{
		{"", nil, false},
		{"name", []store.SortKey{{Key: "name", Desc: true}}, false},
		{"name:asc,size:desc, id", []store.SortKey{{Key: "name"}, {Key: "size", Desc: true}, {Key: "id", Desc: true}}, false},
		{"name:up", nil, true},
		{"name,,id", nil, true},
	}
	for _, tt := range tests {
		got, err := store.ParseSort(tt.in)
		if (err != nil) != tt.wantErr || !cmp.Equal(got, tt.want) {
			t.Errorf("ParseSort(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err != nil && !errors.Is(err, store.ErrInvalid) {
			t.Errorf("ParseSort(%q) error %v is not ErrInvalid", tt.in, err)
		}
	}
}

// listFixture creates volumes v0…v5 one millisecond apart: v0–v3 in project a, v4–v5 in b.
func listFixture(t *testing.T, db storetest.DB) (*store.Store, []store.Volume) {
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := db.Open(t, store.WithClock(func() time.Time { clock = clock.Add(time.Millisecond); return clock }))
	specs := []struct {
		project, name, az string
		size              int64
		meta              map[string]string
	}{
		{"a", "x", "az1", 3, map[string]string{"tier": "gold"}},
		{"a", "y", "az2", 1, map[string]string{"tier": "gold", "team": "db"}},
		{"a", "x", "az1", 2, nil},
		{"a", "z", "az1", 1, map[string]string{"team": "db"}},
		{"b", "x", "az1", 5, map[string]string{"tier": "gold"}},
		{"b", "w", "az2", 4, nil},
	}
	var out []store.Volume
	for i, sp := range specs {
		v, err := s.CreateVolume(t.Context(), store.Volume{ID: fmt.Sprintf("v%d", i), ProjectID: sp.project,
			UserID: "u", Name: sp.name, AvailabilityZone: sp.az, SizeBytes: sp.size * gib, Metadata: sp.meta}, "")
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	place(t, s, "v1", "b", "p")
	return s, out
}

func ids(vs []store.Volume) []string {
	out := []string{}
	for _, v := range vs {
		out = append(out, v.ID)
	}
	return out
}

func TestListVolumes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		s, _ := listFixture(t, db)
		a := store.ProjectScope("a")
		tests := []struct {
			name   string
			scope  store.Scope
			filter store.VolumeFilter
			sort   string
			limit  int
			marker string
			want   []string
		}{
			{"default order is created_at desc", a, store.VolumeFilter{}, "", 0, "", []string{"v3", "v2", "v1", "v0"}},
			{"projects never see each other", store.ProjectScope("b"), store.VolumeFilter{}, "", 0, "", []string{"v5", "v4"}},
			{"all tenants", store.AllProjects(), store.VolumeFilter{}, "created_at:asc", 0, "", []string{"v0", "v1", "v2", "v3", "v4", "v5"}},
			{"name", a, store.VolumeFilter{Name: "x"}, "", 0, "", []string{"v2", "v0"}},
			{"status", a, store.VolumeFilter{Status: volume.StatusAvailable}, "", 0, "", []string{"v1"}},
			{"availability zone", a, store.VolumeFilter{AvailabilityZone: "az2"}, "", 0, "", []string{"v1"}},
			{"metadata, every pair", a, store.VolumeFilter{Metadata: map[string]string{"tier": "gold", "team": "db"}}, "", 0, "", []string{"v1"}},
			{"metadata, one pair", store.AllProjects(), store.VolumeFilter{Metadata: map[string]string{"tier": "gold"}}, "", 0, "", []string{"v4", "v1", "v0"}},
			{"size asc, then created_at asc", a, store.VolumeFilter{}, "size:asc", 0, "", []string{"v1", "v3", "v2", "v0"}},
			{"size desc, then created_at desc", a, store.VolumeFilter{}, "size", 0, "", []string{"v0", "v2", "v3", "v1"}},
			{"name asc, size desc", a, store.VolumeFilter{}, "display_name:asc,size:desc", 0, "", []string{"v0", "v2", "v1", "v3"}},
			{"limit", a, store.VolumeFilter{}, "", 2, "", []string{"v3", "v2"}},
			{"marker", a, store.VolumeFilter{}, "", 2, "v2", []string{"v1", "v0"}},
			{"marker with keys", a, store.VolumeFilter{}, "size:asc", 2, "v3", []string{"v2", "v0"}},
			{"marker at the end", a, store.VolumeFilter{}, "", 2, "v0", []string{}},
			{"marker and filter", a, store.VolumeFilter{Name: "x"}, "", 0, "v3", []string{"v2", "v0"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				sort, err := store.ParseSort(tt.sort)
				if err != nil {
					t.Fatal(err)
				}
				got, err := s.ListVolumes(t.Context(), tt.scope, tt.filter, store.ListOptions{Sort: sort, Limit: tt.limit, Marker: tt.marker})
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, ids(got)); diff != "" {
					t.Errorf("ids (-want +got):\n%s", diff)
				}
			})
		}
	})
}

// TestListPages walks every page of two and finds every volume once, in order.
func TestListPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		s, _ := listFixture(t, db)
		for _, sort := range []string{"", "name:asc", "size:desc,name:asc", "availability_zone:asc", "updated_at:desc"} {
			keys, _ := store.ParseSort(sort)
			all, err := s.ListVolumes(t.Context(), store.AllProjects(), store.VolumeFilter{}, store.ListOptions{Sort: keys})
			if err != nil {
				t.Fatal(err)
			}
			var paged []store.Volume
			marker := ""
			for range 10 {
				page, err := s.ListVolumes(t.Context(), store.AllProjects(), store.VolumeFilter{}, store.ListOptions{Sort: keys, Limit: 2, Marker: marker})
				if err != nil {
					t.Fatal(err)
				}
				if len(page) == 0 {
					break
				}
				paged = append(paged, page...)
				marker = page[len(page)-1].ID
			}
			if diff := cmp.Diff(ids(all), ids(paged)); diff != "" || len(all) != 6 {
				t.Errorf("sort %q: pages differ from the whole list (-all +pages):\n%s", sort, diff)
			}
		}
	})
}

func TestListErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		s, _ := listFixture(t, db)
		ctx := t.Context()
		a := store.ProjectScope("a")
		if _, err := s.ListVolumes(ctx, a, store.VolumeFilter{}, store.ListOptions{Marker: "nope"}); !errors.Is(err, store.ErrMarkerNotFound) {
			t.Errorf("unknown marker: %v", err)
		}
		if _, err := s.ListVolumes(ctx, a, store.VolumeFilter{}, store.ListOptions{Marker: "v4"}); !errors.Is(err, store.ErrMarkerNotFound) {
			t.Errorf("another project's marker: %v", err)
		}
		if _, err := s.ListVolumes(ctx, a, store.VolumeFilter{}, store.ListOptions{Sort: []store.SortKey{{Key: "provider_data"}}}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("bad sort key: %v", err)
		}
		if _, err := s.ListVolumes(ctx, a, store.VolumeFilter{}, store.ListOptions{Limit: -1}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("negative limit: %v", err)
		}
		if _, err := s.ListVolumes(ctx, store.Scope{}, store.VolumeFilter{}, store.ListOptions{}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("zero scope: %v", err)
		}
	})
}

func TestListSnapshots(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		s, _ := listFixture(t, db)
		ctx := t.Context()
		for i, name := range []string{"s", "t", "s"} {
			_, err := s.CreateSnapshot(ctx, store.ProjectScope("a"), store.Snapshot{ID: fmt.Sprintf("s%d", i), UserID: "u",
				VolumeID: "v1", Name: name, Metadata: map[string]string{"n": fmt.Sprint(i)}}, volume.SnapshotSource, "")
			if err != nil {
				t.Fatal(err)
			}
		}
		tests := []struct {
			scope  store.Scope
			filter store.SnapshotFilter
			opts   store.ListOptions
			want   []string
		}{
			{store.ProjectScope("a"), store.SnapshotFilter{}, store.ListOptions{}, []string{"s2", "s1", "s0"}},
			{store.ProjectScope("b"), store.SnapshotFilter{}, store.ListOptions{}, nil},
			{store.ProjectScope("a"), store.SnapshotFilter{Name: "s"}, store.ListOptions{}, []string{"s2", "s0"}},
			{store.ProjectScope("a"), store.SnapshotFilter{VolumeID: "v1", Status: volume.StatusCreating}, store.ListOptions{Limit: 1, Marker: "s2"}, []string{"s1"}},
			{store.AllProjects(), store.SnapshotFilter{Metadata: map[string]string{"n": "1"}}, store.ListOptions{}, []string{"s1"}},
			{store.ProjectScope("a"), store.SnapshotFilter{}, store.ListOptions{Sort: []store.SortKey{{Key: "name"}}}, []string{"s0", "s2", "s1"}},
		}
		for i, tt := range tests {
			got, err := s.ListSnapshots(ctx, tt.scope, tt.filter, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var gotIDs []string
			for _, g := range got {
				gotIDs = append(gotIDs, g.ID)
			}
			if diff := cmp.Diff(tt.want, gotIDs); diff != "" {
				t.Errorf("case %d (-want +got):\n%s", i, diff)
			}
		}
	})
}
