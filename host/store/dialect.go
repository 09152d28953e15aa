package store

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect is everything that differs between SQLite and PostgreSQL. The SQL is written once,
// with ? placeholders; this list is the whole of the difference.
type dialect struct {
	name string
	// dollar: PostgreSQL numbers its placeholders ($1, $2, …).
	dollar bool
	// forUpdate locks the rows a SELECT reads until commit, against other writers but not
	// against foreign-key checks (NO KEY: the store never changes a key it locked this way).
	// SQLite needs none: its write transactions run one at a time (BEGIN IMMEDIATE on the
	// single writer connection).
	forUpdate string
	// forShare locks them against change but not against other readers.
	forShare string
	// autoID is the DDL of an auto-increment primary key.
	autoID string
	// jsonEach turns a JSON object column into (key, value) rows for metadata filters.
	jsonEach string
}

var (
	sqliteDialect = dialect{name: "sqlite", autoID: "INTEGER PRIMARY KEY AUTOINCREMENT",
		jsonEach: "json_each(%s)"}
	postgresDialect = dialect{name: "postgres", dollar: true, forUpdate: " FOR NO KEY UPDATE",
		forShare: " FOR SHARE",
		autoID:   "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
		jsonEach: "jsonb_each_text(%s::jsonb)"}
)

// rebind rewrites ? placeholders to $n for PostgreSQL. Queries hold no ? inside literals.
func (d dialect) rebind(q string) string {
	if !d.dollar || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ddl substitutes the dialect's spellings into a migration.
func (d dialect) ddl(sql string) string {
	return strings.ReplaceAll(sql, "{{autoid}}", d.autoID)
}

// retries returns how many times a transaction that failed with err may run in all: many for
// a lost race that running again resolves (PostgreSQL's serialization failure and deadlock,
// errRetry), a few for SQLite's busy and locked (busy_timeout has already waited: another
// process holds the database), one for anything else.
func retries(err error) int {
	if errors.Is(err, errRetry) {
		return 100
	}
	if pg, ok := errors.AsType[*pgconn.PgError](err); ok && (pg.Code == "40001" || pg.Code == "40P01") {
		return 100
	}
	if lite, ok := errors.AsType[*sqlite.Error](err); ok {
		if c := lite.Code() & 0xff; c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED {
			return 3
		}
	}
	return 1
}

// duplicate reports a unique or primary-key violation.
func duplicate(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "23505"
	}
	var lite *sqlite.Error
	if errors.As(err, &lite) {
		return lite.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY ||
			lite.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
	}
	return false
}

// source is a parsed DSN: which dialect, and the driver's data source names.
type source struct {
	d dialect
	// write and read are the data sources of the writer and reader pools; for PostgreSQL both
	// are the DSN and one pool serves both.
	write, read string
	// wal is the SQLite database whose write-ahead log the store fsyncs itself
	// (synchronous=full, the default: see walSyncer); empty when SQLite's own setting applies.
	wal string
}

// sqliteSync are the accepted values of the synchronous parameter.
var sqliteSync = map[string]string{"full": "FULL", "normal": "NORMAL", "off": "OFF", "extra": "EXTRA"}

// parseDSN reads "postgres://…", "postgresql://…", "sqlite:///abs/path.db", "sqlite://rel.db"
// or a plain file path. A SQLite DSN accepts one parameter, synchronous=full|normal|off|extra
// (default full: every commit is durable).
func parseDSN(dsn string) (source, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return source{d: postgresDialect, write: dsn, read: dsn}, nil
	case strings.HasPrefix(dsn, "sqlite://"):
		dsn = strings.TrimPrefix(dsn, "sqlite://")
	case strings.Contains(dsn, "://"):
		return source{}, fmt.Errorf("unknown database scheme in %q: want postgres:// or sqlite://", dsn)
	}
	path, query, _ := strings.Cut(dsn, "?")
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return source{}, fmt.Errorf("sqlite database %q: want a file path", dsn)
	}
	params, err := url.ParseQuery(query)
	if err != nil {
		return source{}, fmt.Errorf("sqlite database %q: %w", dsn, err)
	}
	sync := "FULL"
	for k, v := range params {
		s, ok := sqliteSync[strings.ToLower(v[0])]
		if k != "synchronous" || !ok {
			return source{}, fmt.Errorf("sqlite database %q: unknown parameter %s=%s (accepted: synchronous=full|normal|off|extra)", dsn, k, v[0])
		}
		sync = s
	}
	// WAL lets readers run beside the writer; busy_timeout makes a connection wait for a lock
	// instead of failing; journal_size_limit bounds the WAL after checkpoints.
	// _txlock=immediate makes every transaction BEGIN IMMEDIATE: it takes the write lock first,
	// so it never fails half-way when upgrading a read lock. Readers set query_only.
	// FULL is kept by the store itself: SQLite commits with NORMAL and the store fsyncs the
	// WAL before it reports a write done (walSyncer).
	wal := ""
	if sync == "FULL" {
		sync, wal = "NORMAL", path
	}
	return source{d: sqliteDialect,
		write: path + "?_busy_timeout=10000&_journal_mode=WAL&_foreign_keys=1&_synchronous=" +
			sync + "&_pragma=journal_size_limit(67108864)&_txlock=immediate",
		read: path + "?_busy_timeout=10000&_foreign_keys=1&_query_only=1", wal: wal}, nil
}
