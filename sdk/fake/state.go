package fake

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/kilnstorage/kiln/sdk"
)

// stateVersion is the version of the state file's format.
const stateVersion = 1

// state is everything the fake backend holds. It is the JSON state file's content.
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
		Snapshots: make(map[string]snapshot), Leaked: make(map[string]int64)}
}

// load reads the state file at path; a missing file is an empty backend.
func load(path string) (state, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return newState(), nil
	} else if err != nil {
		return state{}, err
	}
	s := newState()
	if err := json.Unmarshal(data, &s); err != nil {
		return state{}, fmt.Errorf("state file %s: %w", path, err)
	}
	if s.Version != stateVersion {
		return state{}, fmt.Errorf("state file %s: version %d, want %d", path, s.Version, stateVersion)
	}
	return s.clone(), nil
}

// save writes s to path atomically: a temporary file in the same directory, synced, renamed
// over path, and the directory synced, so a crash leaves either the old state or the new.
func (s state) save(path string) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if err := writeSynced(tmp, data); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

func writeSynced(f *os.File, data []byte) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

// clone copies s so that a change to the copy leaves s alone; records are values and are
// replaced, never changed in place.
func (s state) clone() state {
	s.Volumes = cloneMap(s.Volumes)
	s.Snapshots = cloneMap(s.Snapshots)
	s.Leaked = cloneMap(s.Leaked)
	return s
}

// cloneMap is maps.Clone, but never nil.
func cloneMap[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return make(map[K]V)
	}
	return maps.Clone(m)
}

// volume returns the newest object of volume id.
func (s state) volume(id string) (volume, bool) {
	var found volume
	for _, v := range s.Volumes {
		if v.ID == id && v.Object > found.Object {
			found = v
		}
	}
	return found, found.Object != 0
}

// addVolume stores v as a new object and returns it with its object number.
func (s *state) addVolume(v volume) volume {
	s.Serial++
	v.Object = s.Serial
	s.Volumes[v.Object] = v
	return v
}

// deleteVolume removes every object of volume id; with leak, the thick ones' bytes stay used.
func (s *state) deleteVolume(id string, leak bool) {
	for obj, v := range s.Volumes {
		if v.ID != id {
			continue
		}
		if leak && !v.Thin {
			s.Leaked[v.Pool] += v.SizeBytes
		}
		delete(s.Volumes, obj)
	}
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
