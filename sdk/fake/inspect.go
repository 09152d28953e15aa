package fake

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
)

// Contents lists the IDs of the volumes and snapshots that the fake backend named backend
// ("" for the default) holds in stateDir, read from its state files as a restarted driver would
// read them, without changing them. It is for tests that look at a backend from outside its
// process; the driver may be running.
func Contents(stateDir, backend string) (volumes, snapshots []string, err error) {
	base, err := stateFiles(stateDir, backend)
	if err != nil {
		return nil, nil, err
	}
	s, err := readSnapshot(base + ".json")
	if err != nil {
		return nil, nil, err
	}
	data, err := os.ReadFile(base + ".log")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, err
	}
	if _, _, err := replay(&s, data); err != nil {
		return nil, nil, fmt.Errorf("log %s.log: %w", base, err)
	}
	for _, v := range s.Volumes {
		volumes = append(volumes, v.ID)
	}
	for id := range s.Snapshots {
		snapshots = append(snapshots, id)
	}
	slices.Sort(volumes)
	slices.Sort(snapshots)
	return slices.Compact(volumes), snapshots, nil
}
