package store

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Rows store times as microseconds since the Unix epoch (Cinder shows microseconds), JSON as
// text, and optional references as NULL. These helpers convert both ways.

func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros is the time of n microseconds, UTC.
func fromMicros(n int64) time.Time { return time.UnixMicro(n).UTC() }

// nullMicros is NULL for the zero time.
func nullMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

// fromNullMicros is the zero time for NULL.
func fromNullMicros(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromMicros(n.Int64)
}

// nullString is NULL for "".
func nullString(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}

// encodeJSON encodes v, which the store built and always encodes.
func encodeJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("store: encode %T: %v", v, err))
	}
	return string(b)
}

// encodeMap encodes a string map as a JSON object, never null.
func encodeMap(m map[string]string) string {
	if m == nil {
		return "{}"
	}
	return encodeJSON(m)
}

// decodeMap decodes a JSON object column into a non-nil map.
func decodeMap(s string) (map[string]string, error) {
	m := map[string]string{}
	if s == "" {
		return m, nil
	}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("decode %q: %w", s, err)
	}
	return m, nil
}

// boolInt is a flag column's value.
func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// anys converts a slice to the arguments of a query.
func anys[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// GiB is the unit of Cinder's sizes and of the gigabytes quotas.
const GiB = 1 << 30

// SizeGiB is a size in bytes as whole GiB, rounded up: what quotas count.
func SizeGiB(bytes int64) int64 { return (bytes + GiB - 1) / GiB }
