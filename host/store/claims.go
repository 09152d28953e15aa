package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/kilnstorage/kiln/host/volume"
)

// Claim is bytes of one pool held for a volume by the flow that placed it.
type Claim struct {
	VolumeID  string
	FlowID    string
	Backend   string
	Pool      string
	Bytes     int64
	CreatedAt time.Time
}

// Key names the claimed pool.
func (c Claim) Key() PoolKey { return PoolKey{Backend: c.Backend, Pool: c.Pool} }

// PlaceRequest asks for Bytes on one pool for a volume.
type PlaceRequest struct {
	VolumeID string
	FlowID   string
	Bytes    int64
	// Pools limits the candidates (an extend names the volume's pool); empty is every pool.
	Pools []PoolKey
	// Status, when set, is the status the live volume must have, checked in the placement's
	// transaction: a volume an admin force-deleted or reset while it waited in a queue gets
	// no claim (ErrNotFound, or ErrInvalid naming its status).
	Status volume.Status
}

// Decide is the scheduling decision: it picks one of the candidates, or returns why none fits.
// It must be pure: Place may call it again, with fresh candidates, when a concurrent placement
// changed the chosen pool first.
type Decide func(candidates []PoolState) (PoolKey, error)

// Place runs the scheduling decision and claims the chosen pool in one transaction, so that
// concurrent schedulers, in one process or in several sharing PostgreSQL, never over-commit a
// pool. It reads the candidates with their claim totals, calls decide, and then adds the claim
// to the chosen pool's totals with a compare-and-swap on what decide saw (its claim totals and
// report); if another placement or a new report changed that pool in between, the whole
// transaction runs again with fresh candidates. On SQLite the write transaction is exclusive,
// so the first try always succeeds.
//
// An error from decide is returned as is, wrapped. Placing again for the same volume and flow
// returns the claim already made without deciding again.
func (s *Store) Place(ctx context.Context, req PlaceRequest, decide Decide) (Claim, error) {
	op := fmt.Sprintf("place volume %s", req.VolumeID)
	if req.VolumeID == "" || req.FlowID == "" || req.Bytes < 0 {
		return Claim{}, fmt.Errorf("%s: %w", op, invalid("a placement needs a volume, a flow and a size"))
	}
	var out Claim
	err := s.write(ctx, op, func(t *tx) error {
		if req.Status != "" {
			v, err := t.lockVolume(AllProjects(), req.VolumeID)
			if err != nil {
				return err
			}
			if v.Status != req.Status {
				return invalid("volume %s is %s, not %s", v.ID, v.Status, req.Status)
			}
		}
		c, err := t.claim(req.VolumeID, req.FlowID)
		if err == nil {
			out = c
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		candidates, err := t.pools(s.reports, req.Pools)
		if err != nil {
			return err
		}
		key, err := decide(candidates)
		if err != nil {
			return err
		}
		out, err = t.addClaim(req, candidates, key)
		return err
	})
	return out, err
}

// addClaim claims req.Bytes of the chosen pool if it is still as the decision saw it.
func (t *tx) addClaim(req PlaceRequest, candidates []PoolState, key PoolKey) (Claim, error) {
	var seen *PoolState
	for i := range candidates {
		if candidates[i].Key() == key {
			seen = &candidates[i]
		}
	}
	if seen == nil {
		return Claim{}, invalid("the decision chose %s, which is not a candidate", key)
	}
	others, err := t.count("SELECT COUNT(*) FROM capacity_claims WHERE volume_id = ? AND backend = ? AND pool = ?",
		req.VolumeID, key.Backend, key.Pool)
	if err != nil {
		return Claim{}, err
	}
	newVolume := int64(0)
	if others == 0 {
		newVolume = 1
	}
	err = t.execOne(`UPDATE pools SET claimed_bytes = claimed_bytes + ?, claimed_volumes = claimed_volumes + ?
		WHERE backend = ? AND pool = ? AND claimed_bytes = ? AND claimed_volumes = ? AND boot_id = ? AND seq = ?`,
		req.Bytes, newVolume, key.Backend, key.Pool, seen.ClaimedBytes, seen.ClaimedVolumes, seen.BootID, int64(seen.Seq))
	if err != nil {
		return Claim{}, err
	}
	c := Claim{VolumeID: req.VolumeID, FlowID: req.FlowID, Backend: key.Backend, Pool: key.Pool,
		Bytes: req.Bytes, CreatedAt: t.now}
	_, err = t.exec(`INSERT INTO capacity_claims (volume_id, flow_id, backend, pool, bytes, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, c.VolumeID, c.FlowID, c.Backend, c.Pool, c.Bytes, micros(c.CreatedAt))
	return c, err
}

const claimColumns = "volume_id, flow_id, backend, pool, bytes, created_at"

func scanClaim(row scanner) (Claim, error) {
	var c Claim
	var created int64
	err := row.Scan(&c.VolumeID, &c.FlowID, &c.Backend, &c.Pool, &c.Bytes, &created)
	c.CreatedAt = fromMicros(created)
	return c, err
}

func (t *tx) claim(volumeID, flowID string) (Claim, error) {
	return scanClaim(t.queryRow("SELECT "+claimColumns+" FROM capacity_claims WHERE volume_id = ? AND flow_id = ?",
		volumeID, flowID))
}

// Claims lists the claims of a volume, oldest first.
func (s *Store) Claims(ctx context.Context, volumeID string) ([]Claim, error) {
	rows, err := s.query(ctx, "SELECT "+claimColumns+" FROM capacity_claims WHERE volume_id = ? ORDER BY created_at, flow_id", volumeID)
	if err != nil {
		return nil, fmt.Errorf("claims of volume %s: %w", volumeID, err)
	}
	defer rows.Close()
	var out []Claim
	for rows.Next() {
		c, err := scanClaim(rows)
		if err != nil {
			return nil, fmt.Errorf("claims of volume %s: %w", volumeID, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ReleaseClaims releases every claim of a volume (its row is going; destroy does this itself).
func (s *Store) ReleaseClaims(ctx context.Context, volumeID string) error {
	return s.write(ctx, "release the claims of volume "+volumeID, func(t *tx) error {
		return t.releaseClaims("volume_id = ?", volumeID)
	})
}

// ReleaseFlowClaims releases the claims a flow made: its revert, or recovery of a flow that
// died. Releasing a flow without claims does nothing.
func (s *Store) ReleaseFlowClaims(ctx context.Context, flowID string) error {
	return s.write(ctx, "release the claims of flow "+flowID, func(t *tx) error {
		return t.releaseClaims("flow_id = ?", flowID)
	})
}

// releaseClaims deletes the claims matching where and takes them off their pools' totals.
func (t *tx) releaseClaims(where string, args ...any) error {
	rows, err := t.query("SELECT "+claimColumns+" FROM capacity_claims WHERE "+where+" ORDER BY backend, pool", args...)
	if err != nil {
		return err
	}
	var claims []Claim
	for rows.Next() {
		c, err := scanClaim(rows)
		if err != nil {
			rows.Close()
			return err
		}
		claims = append(claims, c)
	}
	if err := closeRows(rows); err != nil || len(claims) == 0 {
		return err
	}
	if _, err := t.exec("DELETE FROM capacity_claims WHERE "+where, args...); err != nil {
		return err
	}
	counted := map[Claim]bool{}
	for _, c := range claims {
		left, err := t.count("SELECT COUNT(*) FROM capacity_claims WHERE volume_id = ? AND backend = ? AND pool = ?",
			c.VolumeID, c.Backend, c.Pool)
		if err != nil {
			return err
		}
		gone, vp := int64(0), Claim{VolumeID: c.VolumeID, Backend: c.Backend, Pool: c.Pool}
		if left == 0 && !counted[vp] {
			gone, counted[vp] = 1, true
		}
		_, err = t.exec(`UPDATE pools SET claimed_bytes = claimed_bytes - ?,
			claimed_volumes = claimed_volumes - ? WHERE backend = ? AND pool = ?`, c.Bytes, gone, c.Backend, c.Pool)
		if err != nil {
			return err
		}
	}
	return nil
}

// ClaimDrift is a pool whose claim totals differ from its claims.
type ClaimDrift struct {
	Backend        string
	Pool           string
	ClaimedBytes   int64
	CountedBytes   int64
	ClaimedVolumes int64
	CountedVolumes int64
}

// RecountClaims recomputes every pool's claim totals from the claims, in one transaction, sets
// them, and returns the pools that differed. Claims of deleted volumes are released first.
func (s *Store) RecountClaims(ctx context.Context) ([]ClaimDrift, error) {
	var out []ClaimDrift
	err := s.write(ctx, "recount claims", func(t *tx) error {
		out = nil
		err := t.releaseClaims("volume_id IN (SELECT id FROM volumes WHERE deleted_at IS NOT NULL)")
		if err != nil {
			return err
		}
		rows, err := t.query(`SELECT p.backend, p.pool, p.claimed_bytes, p.claimed_volumes,
			CAST(COALESCE((SELECT SUM(c.bytes) FROM capacity_claims c WHERE c.backend = p.backend AND c.pool = p.pool), 0) AS BIGINT),
			(SELECT COUNT(DISTINCT c.volume_id) FROM capacity_claims c WHERE c.backend = p.backend AND c.pool = p.pool)
			FROM pools p ORDER BY p.backend, p.pool` + t.d.forUpdate)
		if err != nil {
			return err
		}
		for rows.Next() {
			var d ClaimDrift
			if err := rows.Scan(&d.Backend, &d.Pool, &d.ClaimedBytes, &d.ClaimedVolumes, &d.CountedBytes, &d.CountedVolumes); err != nil {
				rows.Close()
				return err
			}
			if d.ClaimedBytes != d.CountedBytes || d.ClaimedVolumes != d.CountedVolumes {
				out = append(out, d)
			}
		}
		if err := closeRows(rows); err != nil {
			return err
		}
		for _, d := range out {
			_, err := t.exec("UPDATE pools SET claimed_bytes = ?, claimed_volumes = ? WHERE backend = ? AND pool = ?",
				d.CountedBytes, d.CountedVolumes, d.Backend, d.Pool)
			if err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}
