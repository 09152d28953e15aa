package fake

import (
	"cmp"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/kilnstorage/kiln/sdk"
)

// stateVersion is the version of the snapshot file's format; the log's records are changes to
// a state of this version.
const stateVersion = 1

// state is everything the fake backend holds. It is the content of the snapshot file, which
// the log's changes then update (journal).
type state struct {
	Version int `json:"version"`
	// Serial is the last object number handed out; every volume object gets the next one.
	Serial int64 `json:"serial"`
	// Volumes are keyed by object number, not volume ID: BugNonIdempotentCreate makes several
	// objects of one ID.
	Volumes   map[int64]volume    `json:"volumes"`
	Snapshots map[string]snapshot `json:"snapshots"`
	// Leaked counts, per pool, the bytes BugLeakCapacityOnDelete never gave back.
	Leaked map[string]int64 `json:"leaked_bytes,omitempty"`
	// objects indexes Volumes by volume ID: the object numbers of each (more than one only
	// with BugNonIdempotentCreate), so that finding a volume does not scan them all. It is not
	// stored: newState and orEmpty make it, apply keeps it.
	objects map[string][]int64
}

// volume is a volume object of the backend.
type volume struct {
	Object    int64  `json:"object"`
	ID        string `json:"id"`
	Name      string `json:"name,omitempty"`
	Pool      string `json:"pool"`
	SizeBytes int64  `json:"size_bytes"`
	// RequestedBytes is the size the volume was created with, which an identical create
	// repeats after an extend.
	RequestedBytes   int64             `json:"requested_bytes"`
	Thin             bool              `json:"thin"`
	SourceSnapshotID string            `json:"source_snapshot_id,omitempty"`
	SourceVolumeID   string            `json:"source_volume_id,omitempty"`
	Params           map[string]string `json:"params,omitempty"`
	Labels           map[string]string `json:"labels,omitempty"`
}

// snapshot is a snapshot of the backend; it records its source's size and takes no space.
type snapshot struct {
	ID             string            `json:"id"`
	Name           string            `json:"name,omitempty"`
	SourceVolumeID string            `json:"source_volume_id"`
	Pool           string            `json:"pool"`
	SizeBytes      int64             `json:"size_bytes"`
	Params         map[string]string `json:"params,omitempty"`
}

func newState() state {
	return state{Version: stateVersion, Volumes: make(map[int64]volume),
		Snapshots: make(map[string]snapshot), Leaked: make(map[string]int64),
		objects: make(map[string][]int64)}
}

// orEmpty returns s with empty maps where its file held none or null.
func (s state) orEmpty() state {
	s.Volumes = orEmpty(s.Volumes)
	s.Snapshots = orEmpty(s.Snapshots)
	s.Leaked = orEmpty(s.Leaked)
	s.objects = make(map[string][]int64, len(s.Volumes))
	for obj, v := range s.Volumes {
		s.objects[v.ID] = sortedAppend(s.objects[v.ID], obj)
	}
	return s
}

// sortedAppend adds obj to objs, kept in order so that equal states have equal indexes.
func sortedAppend(objs []int64, obj int64) []int64 {
	i, _ := slices.BinarySearch(objs, obj)
	return slices.Insert(objs, i, obj)
}

func orEmpty[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return make(map[K]V)
	}
	return m
}

// change is one mutation of the state, and one line of the log. It holds the new values of
// what it changes, never a difference to the old ones, so that applying it twice is applying
// it once: the log may be replayed on a snapshot that already holds it.
type change struct {
	// Serial is the state's new serial; a replay keeps the largest.
	Serial          int64      `json:"serial,omitempty"`
	PutVolumes      []volume   `json:"put_volumes,omitempty"`
	DeleteVolumes   []int64    `json:"delete_volumes,omitempty"` // object numbers
	PutSnapshots    []snapshot `json:"put_snapshots,omitempty"`
	DeleteSnapshots []string   `json:"delete_snapshots,omitempty"`
	// Leaked holds the new leaked bytes of the pools it names.
	Leaked map[string]int64 `json:"leaked_bytes,omitempty"`
}

// apply makes change c to s. Records are values, replaced and never changed in place, so c
// and s may share them.
func (s *state) apply(c change) {
	s.Serial = max(s.Serial, c.Serial)
	for _, obj := range c.DeleteVolumes {
		s.unindex(obj)
		delete(s.Volumes, obj)
	}
	for _, v := range c.PutVolumes {
		s.unindex(v.Object)
		s.Volumes[v.Object] = v
		s.objects[v.ID] = sortedAppend(s.objects[v.ID], v.Object)
	}
	for _, id := range c.DeleteSnapshots {
		delete(s.Snapshots, id)
	}
	for _, snap := range c.PutSnapshots {
		s.Snapshots[snap.ID] = snap
	}
	maps.Copy(s.Leaked, c.Leaked)
}

// unindex drops object obj, if s has it, from the index by volume ID.
func (s *state) unindex(obj int64) {
	v, ok := s.Volumes[obj]
	if !ok {
		return
	}
	objs := slices.DeleteFunc(s.objects[v.ID], func(o int64) bool { return o == obj })
	if len(objs) == 0 {
		delete(s.objects, v.ID)
	} else {
		s.objects[v.ID] = objs
	}
}

// volume returns the newest object of volume id.
func (s state) volume(id string) (volume, bool) {
	var found volume
	for _, obj := range s.objects[id] {
		if v := s.Volumes[obj]; v.Object > found.Object {
			found = v
		}
	}
	return found, found.Object != 0
}

// addVolume returns v as a new object, with its object number, and the change that stores it.
func (s state) addVolume(v volume) (volume, change) {
	v.Object = s.Serial + 1
	return v, change{Serial: v.Object, PutVolumes: []volume{v}}
}

// deleteVolume returns the change that removes every object of volume id; with leak, the
// thick ones' bytes stay used.
func (s state) deleteVolume(id string, leak bool) change {
	c := change{Leaked: make(map[string]int64)}
	for _, obj := range s.objects[id] {
		v := s.Volumes[obj]
		c.DeleteVolumes = append(c.DeleteVolumes, obj)
		if leak && !v.Thin {
			c.Leaked[v.Pool] = s.leaked(c, v.Pool) + v.SizeBytes
		}
	}
	return c
}

// leaked returns the leaked bytes of pool once c is applied.
func (s state) leaked(c change, pool string) int64 {
	if n, ok := c.Leaked[pool]; ok {
		return n
	}
	return s.Leaked[pool]
}

// snapshotsOf counts the snapshots whose source is volume id.
func (s state) snapshotsOf(id string) int {
	n := 0
	for _, snap := range s.Snapshots {
		if snap.SourceVolumeID == id {
			n++
		}
	}
	return n
}

// usage returns the free and provisioned bytes of a pool of total bytes: thick volumes and
// leaked bytes take free bytes, every volume counts as provisioned.
func (s state) usage(pool string, total int64) (free, provisioned int64) {
	used := s.Leaked[pool]
	for _, v := range s.Volumes {
		if v.Pool != pool {
			continue
		}
		provisioned += v.SizeBytes
		if !v.Thin {
			used += v.SizeBytes
		}
	}
	return max(total-used, 0), provisioned
}

// providerData is what the host keeps for v: its path and object number, both backend state.
func (v volume) providerData() map[string]string {
	return map[string]string{"fake_path": v.Pool + "/" + v.ID,
		"fake_object_id": strconv.FormatInt(v.Object, 10)}
}

// view is v as the contract reports it.
func (v volume) view() sdk.Volume {
	return sdk.Volume{ID: v.ID, Pool: v.Pool, SizeBytes: v.SizeBytes, Thin: v.Thin,
		SourceSnapshotID: v.SourceSnapshotID, SourceVolumeID: v.SourceVolumeID,
		ProviderData: v.providerData()}
}

// view is s as the contract reports it; the fake's snapshots are ready at once.
func (s snapshot) view() sdk.Snapshot {
	return sdk.Snapshot{ID: s.ID, SourceVolumeID: s.SourceVolumeID, Pool: s.Pool,
		SizeBytes: s.SizeBytes, Ready: true,
		ProviderData: map[string]string{"fake_path": s.Pool + "/" + s.SourceVolumeID + "@" + s.ID}}
}

// list returns the volume objects in pool (every pool when empty) whose ID sorts after after,
// ordered by ID.
func (s state) list(pool, after string) []volume {
	var out []volume
	for _, v := range s.Volumes {
		if (pool == "" || v.Pool == pool) && v.ID > after {
			out = append(out, v)
		}
	}
	slices.SortFunc(out, func(a, b volume) int {
		return cmp.Or(strings.Compare(a.ID, b.ID), cmp.Compare(a.Object, b.Object))
	})
	return out
}
