// Package store is Kiln's persistent state behind database/sql: SQLite through modernc.org/sqlite
// (pure Go, the embedded default) and PostgreSQL through pgx (several hosts), one schema,
// embedded numbered migrations.
//
// Every status change is a compare-and-swap in one transaction from host/volume's transition
// table (TransitionVolume, TransitionSnapshot); a refused one is a *volume.TransitionError.
// Quota usage moves in the same transaction as the rows it counts: CreateVolume and
// CreateSnapshot commit the reservations their flow made with Reserve, and a destroy gives the
// usage back, so CheckQuotas finds usage equal to the rows. Place runs the scheduler's decision
// and writes the capacity claim in one transaction, so that concurrent schedulers never
// over-commit a pool. Journal implements host/flow's journal.
//
// Concurrency: on SQLite every write transaction is BEGIN IMMEDIATE on one connection, so
// writers queue in Go and never fail with SQLITE_BUSY, while a pool of read-only connections
// reads beside them (WAL). On PostgreSQL (READ COMMITTED) a transaction locks the rows it will
// change (SELECT … FOR NO KEY UPDATE, in a fixed order), and Place swaps the chosen pool's
// claim totals only if they are what the decision saw; a transaction that loses a race
// (deadlock, serialization failure, a failed swap) runs again. docs/store.md has the schema,
// the measurements and every deviation from Cinder.
package store
