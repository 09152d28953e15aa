// Package storetest gives tests a fresh Kiln database: SQLite in t.TempDir() always, and
// PostgreSQL when KILN_TEST_POSTGRES_DSN is set, each test in a schema of its own so that runs
// never collide. Each runs one test body on both, so the same suite covers both dialects.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kilnstorage/kiln/host/store"
)

// EnvPostgres names the environment variable with the PostgreSQL DSN of the tests: a role
// that may create schemas in its database, such as
// postgres://kiln:kiln@127.0.0.1:5432/kiln?sslmode=disable.
const EnvPostgres = "KILN_TEST_POSTGRES_DSN"

// DB is a fresh, empty database: a DSN that store.Open accepts.
type DB struct {
	// Name is "sqlite" or "postgres".
	Name string
	DSN  string
}

// Each runs f as the subtests "sqlite" and "postgres", each on a fresh database. The postgres
// subtest skips, saying how to run it, when KILN_TEST_POSTGRES_DSN is not set.
func Each(t *testing.T, f func(t *testing.T, db DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { f(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { f(t, Postgres(t)) })
}

// EachB is Each for benchmarks: the sub-benchmarks "sqlite" and "postgres".
func EachB(b *testing.B, f func(b *testing.B, db DB)) {
	b.Helper()
	b.Run("sqlite", func(b *testing.B) { f(b, SQLite(b)) })
	b.Run("postgres", func(b *testing.B) { f(b, Postgres(b)) })
}

// SQLite returns a fresh SQLite database in t.TempDir().
func SQLite(t testing.TB) DB {
	return DB{Name: "sqlite", DSN: "sqlite://" + filepath.Join(t.TempDir(), "kiln.db")}
}

// Postgres returns a fresh schema in the database KILN_TEST_POSTGRES_DSN names, dropped when
// the test ends, or skips the test when the variable is not set.
func Postgres(t testing.TB) DB {
	t.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		t.Skipf("PostgreSQL tests skipped: set %s=postgres://USER:PASS@127.0.0.1:5432/DB?sslmode=disable "+
			"(a role that may create schemas) to run them; each test uses a fresh schema", EnvPostgres)
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s: want a postgres:// URL, got %q", EnvPostgres, base)
	}
	schema := "kiln_test_" + strings.ToLower(rand.Text()[:12])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create test schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err == nil {
			_, err = db.Exec("DROP SCHEMA " + schema + " CASCADE")
			db.Close()
		}
		if err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return DB{Name: "postgres", DSN: u.String()}
}

// Open opens a store on db, closed when the test ends. Several stores on one DB behave like
// several hosts sharing a database.
func (db DB) Open(t testing.TB, opts ...store.Option) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), db.DSN, opts...)
	if err != nil {
		t.Fatalf("open %s store: %v", db.Name, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return s
}

// Raw opens db outside the store, closed when the test ends: for tests that set up or damage
// rows on purpose. Write with literal values: placeholders differ between the dialects.
func (db DB) Raw(t testing.TB) *sql.DB {
	t.Helper()
	driver, dsn := "pgx", db.DSN
	if db.Name == "sqlite" {
		driver, dsn = "sqlite", strings.TrimPrefix(db.DSN, "sqlite://")+"?_busy_timeout=10000"
	}
	raw, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw
}

// Exec runs one raw statement on db (see Raw).
func (db DB) Exec(t testing.TB, query string) {
	t.Helper()
	if _, err := db.Raw(t).Exec(query); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// Open opens a store on a fresh SQLite database: the quick start for tests of other packages.
func Open(t testing.TB, opts ...store.Option) *store.Store {
	return SQLite(t).Open(t, opts...)
}

// ID returns a short random ID for test rows.
func ID(prefix string) string { return fmt.Sprintf("%s-%s", prefix, strings.ToLower(rand.Text()[:10])) }
