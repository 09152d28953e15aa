package main

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/kilnstorage/kiln/sdk"
)

// defaultPageSize is the page size of a ListVolumes call without a limit.
const defaultPageSize = 100

// listed is a volume ID found in a pool's directory, not yet read.
type listed struct {
	id string
	s  site
}

// ListVolumes returns one page of the volumes of req.Pool (every pool when empty), ordered by
// ID; the page token is the last ID of the previous page. A pool that is down fails the
// listing rather than making its volumes look deleted.
func (d *Driver) ListVolumes(ctx context.Context, req sdk.ListRequest) (sdk.ListPage, error) {
	ids, sites, err := d.listIDs(req)
	defer func() {
		for _, s := range sites {
			s.close()
		}
	}()
	if err != nil {
		return sdk.ListPage{}, err
	}
	limit := cmp.Or(req.Limit, defaultPageSize)
	var page sdk.ListPage
	for i, e := range ids {
		if err := ctx.Err(); err != nil {
			return sdk.ListPage{}, err
		}
		o, ok, err := e.s.load(volumesDir, e.id)
		if err != nil {
			d.log.Warn("volume left out of the listing", "pool", e.s.p.cfg.Name, "volume_id", e.id, "error", err)
			continue
		}
		if !ok {
			continue // deleted since the directory was read, or never committed
		}
		page.Volumes = append(page.Volumes, e.s.volume(o))
		if len(page.Volumes) == limit && i < len(ids)-1 {
			page.NextPageToken = e.id
			break
		}
	}
	return page, nil
}

// listIDs returns, sorted, the IDs after req.PageToken that have a record in the pools asked
// for, with the sites it opened, which the caller closes.
func (d *Driver) listIDs(req sdk.ListRequest) ([]listed, []site, error) {
	if req.Pool != "" && !slices.ContainsFunc(d.pools, func(p *pool) bool { return p.cfg.Name == req.Pool }) {
		return nil, nil, sdk.ErrorInvalid("pool", "unknown pool "+req.Pool)
	}
	var ids []listed
	var sites []site
	for _, p := range d.pools {
		if req.Pool != "" && p.cfg.Name != req.Pool {
			continue
		}
		s, err := open(p)
		if err != nil {
			return nil, sites, err
		}
		sites = append(sites, s)
		names, err := s.recordIDs(volumesDir, req.PageToken)
		if err != nil {
			return nil, sites, s.fail("list volumes", 0, err)
		}
		for _, id := range names {
			ids = append(ids, listed{id, s})
		}
	}
	slices.SortFunc(ids, func(a, b listed) int { return strings.Compare(a.id, b.id) })
	return ids, sites, nil
}

// recordIDs returns the IDs of the records in dir that sort after token.
func (s site) recordIDs(dir, token string) ([]string, error) {
	f, err := s.root.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, name := range names {
		id, ok := strings.CutSuffix(name, ".json")
		if ok && id > token && idPattern.MatchString(id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}
