package store

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps prepared statements by query text, for SQLite only. In modernc's SQLite,
// parsing a statement costs more than running it (a profile of the create path spent a fifth
// of its CPU in the parser); pgx already caches prepared statements per connection, so
// PostgreSQL runs queries as they are.
//
// A statement prepared on the database is prepared on each connection the first time it runs
// there and stays prepared; a transaction reuses the one of its connection (sql.Tx.StmtContext).
type stmtCache struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
	// closed stops new prepares; preparing counts those running, which close waits for: one
	// may be opening a connection, and with it the database's files.
	closed    bool
	preparing sync.WaitGroup
}

// maxStmts bounds a cache. Queries are built from a fixed set of fragments, so the bound is
// reached only by lists with many distinct filter combinations or IN lists; past it, queries
// run unprepared.
const maxStmts = 512

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}}
}

// get returns the prepared statement for q, or nil when c is nil or q is not prepared yet. On a
// miss it prepares q in the background, on a connection of its own: a caller inside a
// transaction holds a connection, and the writer (and a busy reader pool) has no other to
// prepare on. Until then, and past maxStmts, q runs unprepared; a q that does not prepare
// reports its own error when it runs.
func (c *stmtCache) get(q string) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[q]; ok || len(c.m) >= maxStmts || c.closed {
		return st
	}
	c.m[q] = nil // pending
	c.preparing.Go(func() { c.prepare(q) })
	return nil
}

func (c *stmtCache) prepare(q string) {
	st, err := c.db.PrepareContext(context.Background(), q)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[q]; !ok || err != nil {
		// Closed meanwhile, or q does not prepare: it stays pending and runs unprepared.
		if st != nil {
			st.Close()
		}
		return
	}
	c.m[q] = st
}

// close waits for the prepares running and closes every cached statement.
func (c *stmtCache) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.preparing.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.m {
		if st != nil {
			st.Close()
		}
		delete(c.m, q)
	}
}
