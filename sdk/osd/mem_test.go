package osd_test

import (
	"fmt"
	"maps"
	"regexp"
	"sync"

	"github.com/libopenstorage/openstorage/api"
	"github.com/libopenstorage/openstorage/volume"
)

// memStore is an in-memory openstorage v1.0.0 driver without snapshots, written the way the
// in-tree drivers are: generated IDs, a Create that records Source.Parent without copying
// data, an Inspect that skips missing IDs, and an Enumerate that treats the name as a regular
// expression. Every method can be made to fail or to block.
type memStore struct {
	volume.IODriver
	volume.BlockDriver
	volume.StatsDriver

	mu       sync.Mutex
	vols     map[string]*api.Volume
	data     map[string]string // volume contents, to tell a copy from an empty volume
	next     int
	calls    map[string]int
	fails    map[string]error
	gates    map[string]*gate
	shutdown int
}

// gate blocks a method: the call signals entered, then waits for release to close.
type gate struct {
	entered chan struct{}
	release chan struct{}
}

// memDriver is a memStore with snapshots, or with openstorage's SnapshotNotSupported.
type memDriver struct {
	*memStore
	volume.SnapshotDriver
}

func newMem(snapshots bool) *memDriver {
	s := &memStore{
		IODriver: volume.IONotSupported, BlockDriver: volume.BlockNotSupported,
		StatsDriver: volume.StatsNotSupported,
		vols:        make(map[string]*api.Volume), data: make(map[string]string),
		calls: make(map[string]int), fails: make(map[string]error), gates: make(map[string]*gate),
	}
	d := &memDriver{memStore: s, SnapshotDriver: volume.SnapshotNotSupported}
	if snapshots {
		d.SnapshotDriver = memSnapshots{s}
	}
	return d
}

// hook counts a call to method, blocks it if gated and returns its injected error.
func (m *memStore) hook(method string) error {
	m.mu.Lock()
	m.calls[method]++
	g, err := m.gates[method], m.fails[method]
	m.mu.Unlock()
	if g != nil {
		g.entered <- struct{}{}
		<-g.release
	}
	return err
}

func (m *memStore) fail(method string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fails[method] = err
}

func (m *memStore) gate(method string) *gate {
	m.mu.Lock()
	defer m.mu.Unlock()
	g := &gate{entered: make(chan struct{}, 1), release: make(chan struct{})}
	m.gates[method] = g
	return g
}

func (m *memStore) count(method string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls[method]
}

func (m *memStore) shutdowns() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.shutdown
}

func (m *memStore) write(id, data string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.data[id] = data
}

func (m *memStore) read(id string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.data[id]
}

func (m *memStore) Name() string                 { return "mem" }
func (m *memStore) Type() api.DriverType         { return api.DriverType_DRIVER_TYPE_BLOCK }
func (m *memStore) Status() [][2]string          { return nil }
func (m *memStore) MountedAt(string) string      { return "" }
func (m *memStore) Mount(string, string) error   { return volume.ErrNotSupported }
func (m *memStore) Unmount(string, string) error { return volume.ErrNotSupported }

func (m *memStore) Shutdown() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.shutdown++
}

func (m *memStore) Create(loc *api.VolumeLocator, src *api.Source, spec *api.VolumeSpec) (string, error) {
	if err := m.hook("Create"); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.add(&api.Volume{Locator: loc, Source: src, Spec: spec.Copy()}), nil
}

// add stores a copy of v under a new ID; m.mu is held.
func (m *memStore) add(v *api.Volume) string {
	m.next++
	v = clone(v)
	v.Id = fmt.Sprintf("osd-%d", m.next)
	v.Status, v.State = api.VolumeStatus_VOLUME_STATUS_UP, api.VolumeState_VOLUME_STATE_AVAILABLE
	m.vols[v.Id] = v
	return v.Id
}

func (m *memStore) Delete(id string) error {
	if err := m.hook("Delete"); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.vols[id] == nil {
		return volume.ErrEnoEnt
	}
	for _, v := range m.vols {
		if v.Readonly && v.GetSource().GetParent() == id {
			return volume.ErrVolHasSnaps
		}
	}
	delete(m.vols, id)
	delete(m.data, id)
	return nil
}

func (m *memStore) Set(id string, loc *api.VolumeLocator, spec *api.VolumeSpec) error {
	if err := m.hook("Set"); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.vols[id]
	switch {
	case v == nil:
		return volume.ErrEnoEnt
	case spec != nil && spec.Size < v.Spec.Size:
		return volume.ErrEinval
	case spec != nil:
		v.Spec.Size = spec.Size
	}
	return nil
}

func (m *memStore) Inspect(ids []string) ([]*api.Volume, error) {
	if err := m.hook("Inspect"); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*api.Volume
	for _, id := range ids {
		if v := m.vols[id]; v != nil {
			out = append(out, clone(v))
		}
	}
	return out, nil
}

func (m *memStore) Enumerate(loc *api.VolumeLocator, _ map[string]string) ([]*api.Volume, error) {
	if err := m.hook("Enumerate"); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*api.Volume
	for _, v := range m.vols {
		if ok, _ := regexp.MatchString(loc.GetName(), v.GetLocator().GetName()); ok {
			out = append(out, clone(v))
		}
	}
	return out, nil
}

func (m *memStore) SnapEnumerate(ids []string, _ map[string]string) ([]*api.Volume, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*api.Volume
	for _, v := range m.vols {
		for _, id := range ids {
			if v.Readonly && v.GetSource().GetParent() == id {
				out = append(out, clone(v))
			}
		}
	}
	return out, nil
}

// memSnapshots gives a memStore snapshots that copy the volume's data.
type memSnapshots struct{ m *memStore }

func (s memSnapshots) Snapshot(id string, readonly bool, loc *api.VolumeLocator) (string, error) {
	m := s.m
	if err := m.hook("Snapshot"); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.vols[id]
	if v == nil {
		return "", volume.ErrEnoEnt
	}
	snap := &api.Volume{Locator: loc, Source: &api.Source{Parent: id}, Readonly: readonly, Spec: v.Spec}
	snapID := m.add(snap)
	m.data[snapID] = m.data[id]
	return snapID, nil
}

func (s memSnapshots) Restore(id, snapID string) error {
	m := s.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.vols[id] == nil || m.vols[snapID] == nil {
		return volume.ErrEnoEnt
	}
	m.data[id] = m.data[snapID]
	return nil
}

// clone deep-copies the parts of v that memStore uses.
func clone(v *api.Volume) *api.Volume {
	c := *v
	if v.Locator != nil {
		c.Locator = &api.VolumeLocator{Name: v.Locator.Name, VolumeLabels: maps.Clone(v.Locator.VolumeLabels)}
	}
	if v.Source != nil {
		src := *v.Source
		c.Source = &src
	}
	if v.Spec != nil {
		c.Spec = v.Spec.Copy()
	}
	return &c
}
