package store

import (
	"strings"
	"sync"
)

// reportCache keeps the pools' decoded reports, each valid while its row has the boot id and
// sequence number it was read with: every change of a report changes one of them. A placement
// then reads only the ledger columns of each candidate, and the whole row of the pools whose
// report changed since.
type reportCache struct {
	mu sync.Mutex
	m  map[PoolKey]PoolState
}

func (c *reportCache) get(k PoolKey, boot string, seq uint64) (PoolState, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.m[k]
	return p, ok && p.BootID == boot && p.Seq == seq
}

func (c *reportCache) put(p PoolState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[PoolKey]PoolState{}
	}
	c.m[p.Key()] = p
}

// pools reads the pools named by keys (all when empty), by backend and name, with their claim
// totals as of this transaction.
func (t *tx) pools(cache *reportCache, keys []PoolKey) ([]PoolState, error) {
	where, args := poolsWhere(keys)
	rows, err := t.query("SELECT backend, pool, boot_id, seq, claimed_bytes, claimed_volumes FROM pools"+
		where+" ORDER BY backend, pool", args...)
	if err != nil {
		return nil, err
	}
	var out []PoolState
	var missing []PoolKey
	for rows.Next() {
		var k PoolKey
		var boot string
		var seq, claimed, volumes int64
		if err := rows.Scan(&k.Backend, &k.Pool, &boot, &seq, &claimed, &volumes); err != nil {
			rows.Close()
			return nil, err
		}
		p, ok := cache.get(k, boot, uint64(seq))
		if !ok {
			missing = append(missing, k)
			p = PoolState{Backend: k.Backend}
			p.Report.Name = k.Pool
		}
		p.ClaimedBytes, p.ClaimedVolumes = claimed, volumes
		out = append(out, p)
	}
	if err := closeRows(rows); err != nil || len(missing) == 0 {
		return out, err
	}
	if 2*len(missing) > len(out) {
		missing = keys // most are stale: read them all
	}
	return out, t.fillPools(cache, out, missing)
}

// fillPools reads the whole rows of the missing pools (all when empty) into out and the cache.
func (t *tx) fillPools(cache *reportCache, out []PoolState, missing []PoolKey) error {
	where, args := poolsWhere(missing)
	rows, err := t.query("SELECT "+poolColumns+" FROM pools"+where, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	index := make(map[PoolKey]int, len(out))
	for i, p := range out {
		index[p.Key()] = i
	}
	for rows.Next() {
		p, err := scanPool(rows)
		if err != nil {
			return err
		}
		cache.put(p)
		if i, ok := index[p.Key()]; ok {
			out[i] = p
		}
	}
	return rows.Err()
}

// poolsWhere is the condition selecting keys; none selects every pool.
func poolsWhere(keys []PoolKey) (string, []any) {
	if len(keys) == 0 {
		return "", nil
	}
	args := make([]any, 0, 2*len(keys))
	for _, k := range keys {
		args = append(args, k.Backend, k.Pool)
	}
	values := strings.Repeat("(?, ?), ", len(keys))
	return " WHERE (backend, pool) IN (VALUES " + values[:len(values)-2] + ")", args
}
