package main

import "github.com/kilnstorage/kiln/sdk"

// spec is a volume the host asked for: the LV it must become, and what an LV left by an earlier
// call must match for the call to be a repeat (sdk.md §6.7 I1, I5).
type spec struct {
	pool    PoolConfig
	id      string
	size    int64
	srcVol  string // the clone's source volume
	srcSnap string // the restored snapshot
	params  string // paramsHash of the request
	labels  []string
	// copy marks a volume filled after lvcreate: it carries tagIncomplete until it is whole.
	copy bool
}

func newSpec(p PoolConfig, req sdk.CreateVolumeRequest) spec {
	return spec{pool: p, id: req.ID, size: req.SizeBytes, params: paramsHash(req.Params),
		labels: labelTags(req.Labels)}
}

func (s spec) lv() lvRef { return lvRef{vg: s.pool.VG, name: volumePrefix + s.id} }

// tags are the LV's tags: identity and sources first, labels last.
func (s spec) tags() []string {
	t := []string{tag(tagID, s.id), tag(tagKind, kindVolume)}
	if s.srcVol != "" {
		t = append(t, tag(tagSourceVolume, s.srcVol))
	}
	if s.srcSnap != "" {
		t = append(t, tag(tagSourceSnapshot, s.srcSnap))
	}
	if s.params != "" {
		t = append(t, tag(tagParams, s.params))
	}
	if s.copy {
		t = append(t, tagIncomplete)
	}
	return append(t, s.labels...)
}

// volume is the volume s stands for once its lvcreate has succeeded: the same Volume that
// volumeOf makes from the LV's lvs line.
func (s spec) volume() sdk.Volume {
	return sdk.Volume{ID: s.id, Pool: s.pool.Name, SizeBytes: s.size, Thin: s.pool.thin(),
		SourceVolumeID: s.srcVol, SourceSnapshotID: s.srcSnap,
		ProviderData: providerData(s.pool.VG, s.lv().name, s.pool.ThinPool)}
}

// differs names the argument in which the existing LV row differs from s, or returns "".
func (s spec) differs(row lvRow) string {
	t := row.tags()
	switch {
	case t[tagKind] != kindVolume || t[tagID] != s.id:
		return "kind (the LV is not this volume)"
	case row.thin() != s.pool.thin():
		return "provisioning"
	case row.VG != s.pool.VG || row.thin() && row.Pool != s.pool.ThinPool:
		return "pool"
	case byteCount(row.Size) != s.size:
		return "size"
	case t[tagSourceVolume] != s.srcVol || t[tagSourceSnapshot] != s.srcSnap:
		return "source"
	case t[tagParams] != s.params:
		return "parameters"
	}
	return ""
}

// incomplete tells whether the row is a copy an earlier call did not finish.
func incomplete(row lvRow) bool {
	_, ok := row.tags()[tagIncomplete]
	return ok
}

// volumeOf is the volume an LV's lvs line describes, in pool.
func volumeOf(row lvRow, pool string) sdk.Volume {
	t := row.tags()
	v := sdk.Volume{ID: t[tagID], Pool: pool, SizeBytes: byteCount(row.Size), Thin: row.thin(),
		SourceVolumeID: t[tagSourceVolume], SourceSnapshotID: t[tagSourceSnapshot],
		ProviderData: providerData(row.VG, row.Name, thinPoolOf(row))}
	if pct, ok := percent(row.DataPercent); ok && v.Thin {
		v.AllocatedBytes = used(v.SizeBytes, pct)
	}
	return v
}

func thinPoolOf(row lvRow) string {
	if row.thin() {
		return row.Pool
	}
	return ""
}

// snapshotOf is the snapshot an LV's lvs line describes, in pool.
func snapshotOf(row lvRow, pool string) sdk.Snapshot {
	t := row.tags()
	size := byteCount(row.OriginSize)
	if size == 0 || row.thin() {
		size = byteCount(row.Size)
	}
	return sdk.Snapshot{ID: t[tagID], SourceVolumeID: t[tagSourceVolume], Pool: pool, SizeBytes: size,
		Ready: true, ProviderData: providerData(row.VG, row.Name, thinPoolOf(row))}
}
