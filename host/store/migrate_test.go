package store_test

import (
	"strings"
	"testing"

	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/store/storetest"
)

func TestMigrate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		s := db.Open(t)
		v, err := s.SchemaVersion(t.Context())
		if err != nil || v != 4 {
			t.Fatalf("SchemaVersion = %d, %v", v, err)
		}
		if s.Dialect() != db.Name {
			t.Errorf("Dialect = %q, want %q", s.Dialect(), db.Name)
		}
		addVolume(t, s, "p", 1)
		// Opening again, as a restarted or a second host does, applies nothing and keeps the rows.
		again := db.Open(t)
		if vs, err := again.ListVolumes(t.Context(), store.AllProjects(), store.VolumeFilter{}, store.ListOptions{}); err != nil || len(vs) != 1 {
			t.Fatalf("after reopening: %d volumes, %v", len(vs), err)
		}
		types, err := again.VolumeTypes(t.Context())
		if err != nil || len(types) != 1 {
			t.Fatalf("default types after reopening: %+v, %v", types, err)
		}
		db.Exec(t, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', 0)")
		_, err = store.Open(t.Context(), db.DSN)
		if err == nil || !strings.Contains(err.Error(), "newer than this binary's") {
			t.Fatalf("opening a newer schema: %v", err)
		}
	})
}

// TestOpenConcurrently starts several hosts at once on one empty database.
func TestOpenConcurrently(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		errs := make(chan error, 4)
		for range 4 {
			go func() {
				s, err := store.Open(t.Context(), db.DSN)
				if err == nil {
					err = s.Close()
				}
				errs <- err
			}()
		}
		for range 4 {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
		s := db.Open(t)
		if types, err := s.VolumeTypes(t.Context()); err != nil || len(types) != 1 {
			t.Fatalf("types: %+v, %v", types, err)
		}
	})
}

// TestIndexesServeTheirQueries checks, on SQLite, that the lighter indexes of migration 0004
// still serve the queries they exist for: a partial index is used only when the query implies
// its condition.
func TestIndexesServeTheirQueries(t *testing.T) {
	db := storetest.SQLite(t)
	db.Open(t)
	raw := db.Raw(t)
	for _, tt := range []struct{ query, index string }{
		{"SELECT COUNT(*) FROM volumes WHERE snapshot_id = 'x' AND status = 'creating' AND deleted_at IS NULL", "volumes_snapshot"},
		{"SELECT COUNT(*) FROM volumes WHERE source_volid = 'x' AND status = 'creating' AND deleted_at IS NULL", "volumes_source"},
		{"SELECT id FROM flow_journal WHERE owner = 'h' ORDER BY updated_at, id", "flow_journal_owner"},
	} {
		rows, err := raw.Query("EXPLAIN QUERY PLAN " + tt.query)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if !strings.Contains(strings.Join(plan, "; "), "INDEX "+tt.index) {
			t.Errorf("%s\nplan %q does not use %s", tt.query, plan, tt.index)
		}
	}
}
