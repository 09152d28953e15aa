package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
)

// migrations are the schema's history: NNNN_name.sql, applied in order, each once, each in its
// own transaction with its row in schema_migrations. A released file never changes; a change
// to the schema is a new file.
//
//go:embed migrations/*.sql
var migrations embed.FS

// migration is one numbered schema change.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the embedded migrations in version order.
func loadMigrations() ([]migration, error) {
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, f := range files {
		base := strings.TrimSuffix(strings.TrimPrefix(f, "migrations/"), ".sql")
		num, name, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration file %s: want NNNN_name.sql", f)
		}
		body, err := migrations.ReadFile(f)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: name, sql: string(body)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %04d_%s: want version %d (no gaps, no duplicates)", m.version, m.name, i+1)
		}
	}
	return out, nil
}

// migrationLock is the PostgreSQL advisory lock that serializes migrations of hosts that start
// together.
const migrationLock = 0x6b696c6e // "kiln"

// migrate applies every migration the database lacks. It refuses a database whose schema is
// newer than this binary's.
func (s *Store) migrate(ctx context.Context) error {
	all, err := loadMigrations()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, m := range all {
		err := s.write(ctx, fmt.Sprintf("migrate to %04d_%s", m.version, m.name), func(t *tx) error {
			return t.apply(m, len(all))
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// apply runs m unless it was applied, under the advisory lock on PostgreSQL (SQLite's write
// transaction is exclusive already).
func (t *tx) apply(m migration, latest int) error {
	if t.d.dollar {
		if _, err := t.exec("SELECT pg_advisory_xact_lock(?)", migrationLock); err != nil {
			return err
		}
	}
	if _, err := t.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
		version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return err
	}
	var current int
	if err := t.queryRow("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&current); err != nil {
		return err
	}
	if current > latest {
		return fmt.Errorf("the database schema is at version %d, newer than this binary's %d", current, latest)
	}
	if current >= m.version {
		return nil
	}
	if err := t.execScript(t.d.ddl(m.sql)); err != nil {
		return err
	}
	_, err := t.exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
		m.version, m.name, t.now.UnixMicro())
	return err
}

// SchemaVersion returns the version of the last migration applied.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.queryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return v, nil
}
