package store

import (
	"strings"
	"testing"
)

func TestParseDSN(t *testing.T) {
	tests := []struct {
		dsn     string
		dialect string
		write   string
		wantErr string
	}{
		{dsn: "postgres://u:p@h/db?sslmode=disable", dialect: "postgres", write: "postgres://u:p@h/db?sslmode=disable"},
		{dsn: "postgresql://h/db", dialect: "postgres", write: "postgresql://h/db"},
		{dsn: "sqlite:///var/lib/kiln/kiln.db", dialect: "sqlite", write: "/var/lib/kiln/kiln.db?"},
		{dsn: "sqlite://kiln.db", dialect: "sqlite", write: "kiln.db?"},
		{dsn: "/tmp/k.db", dialect: "sqlite", write: "/tmp/k.db?"},
		{dsn: "sqlite:///tmp/k.db?synchronous=normal", dialect: "sqlite", write: "_synchronous=NORMAL"},
		// full (the default): SQLite commits with NORMAL and the store fsyncs the WAL itself.
		{dsn: "/tmp/k.db", dialect: "sqlite", write: "_synchronous=NORMAL"},
		{dsn: "/tmp/k.db?synchronous=extra", dialect: "sqlite", write: "_synchronous=EXTRA"},
		{dsn: "/tmp/k.db", dialect: "sqlite", write: "_txlock=immediate"},
		{dsn: "/tmp/k.db?synchronous=fast", wantErr: "unknown parameter synchronous=fast"},
		{dsn: "/tmp/k.db?cache=shared", wantErr: "unknown parameter cache=shared"},
		{dsn: "mysql://h/db", wantErr: "unknown database scheme"},
		{dsn: ":memory:", wantErr: "want a file path"},
		{dsn: "sqlite://", wantErr: "want a file path"},
	}
	for _, tt := range tests {
		src, err := parseDSN(tt.dsn)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseDSN(%q) error = %v, want %q", tt.dsn, err, tt.wantErr)
			}
			continue
		}
		if err != nil || src.d.name != tt.dialect || !strings.Contains(src.write, tt.write) {
			t.Errorf("parseDSN(%q) = %s %q, %v; want %s containing %q", tt.dsn, src.d.name, src.write, err, tt.dialect, tt.write)
		}
		full := tt.dialect == "sqlite" && !strings.Contains(tt.dsn, "synchronous")
		if (src.wal != "") != full || full && src.wal != strings.TrimPrefix(tt.dsn, "sqlite://") {
			t.Errorf("parseDSN(%q): WAL synced by the store %q, want it only for full", tt.dsn, src.wal)
		}
		if tt.dialect == "sqlite" && !strings.Contains(src.read, "_query_only=1") {
			t.Errorf("parseDSN(%q): reader %q is not query_only", tt.dsn, src.read)
		}
	}
}

func TestRebind(t *testing.T) {
	q := "SELECT a FROM t WHERE b = ? AND c IN (?, ?)"
	if got := sqliteDialect.rebind(q); got != q {
		t.Errorf("sqlite rebind = %q", got)
	}
	if got, want := postgresDialect.rebind(q), "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)"; got != want {
		t.Errorf("postgres rebind = %q, want %q", got, want)
	}
}

func TestMigrationsAreNumbered(t *testing.T) {
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].version != 1 || ms[0].name != "initial" {
		t.Fatalf("migrations: %+v", ms)
	}
	for _, m := range ms {
		for _, d := range []dialect{sqliteDialect, postgresDialect} {
			if strings.Contains(d.ddl(m.sql), "{{") {
				t.Errorf("%04d_%s: unsubstituted token for %s", m.version, m.name, d.name)
			}
		}
	}
}
