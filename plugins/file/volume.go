package main

import (
	"context"
	"errors"
	"os"
	"syscall"

	"github.com/kilnstorage/kiln/sdk"
)

// DeleteVolume removes the volume's record and file; a missing volume is success. Its
// snapshots are files of their own and stay. Nothing is zeroed: the old blocks are reachable
// only through the file, which is gone, and a new file reads zeros wherever it was not written.
func (d *Driver) DeleteVolume(_ context.Context, ref sdk.VolumeRef) error {
	return d.delete("volume", volumesDir, ref.ID, ref.Pool)
}

// delete removes object id from every pool that is up, so that a stale hint still removes it
// and pieces of an interrupted create go too. The hinted pool must be up.
func (d *Driver) delete(kind, dir, id, hint string) error {
	if err := checkID(kind, id); err != nil {
		return err
	}
	for _, p := range d.pools {
		s, err := open(p)
		switch {
		case err != nil && p.cfg.Name == hint:
			return err
		case err != nil:
			continue
		}
		err = s.remove(kind, dir, id)
		s.close()
		if err != nil {
			return s.fail("delete "+kind+" "+id, 0, err)
		}
	}
	return nil
}

// GetVolume returns the volume as its file and record describe it, or NotFound.
func (d *Driver) GetVolume(_ context.Context, ref sdk.VolumeRef) (sdk.Volume, error) {
	s, o, err := d.find(volumesDir, ref.ID, ref.Pool)
	if err != nil {
		return sdk.Volume{}, err
	}
	defer s.close()
	return s.volume(o), nil
}

// ExtendVolume grows the volume's file to size: thin by truncating, thick by preallocating the
// new range first. A size at or below the current one returns the volume unchanged.
func (d *Driver) ExtendVolume(ctx context.Context, ref sdk.VolumeRef, size int64) (sdk.Volume, error) {
	s, o, err := d.find(volumesDir, ref.ID, ref.Pool)
	if err != nil {
		return sdk.Volume{}, err
	}
	defer s.close()
	if size <= o.size {
		return s.volume(o), nil
	}
	if err := s.extend(ctx, o, size); err != nil {
		return sdk.Volume{}, s.fail("extend volume "+ref.ID, size-o.size, err)
	}
	return reload(s, volumesDir, ref.ID, site.volume)
}

func (s site) extend(ctx context.Context, o object, size int64) error {
	f, err := s.root.OpenFile(dataName(volumesDir, o.rec.ID), os.O_RDWR|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	switch {
	case o.rec.Thin:
		err = f.Truncate(size)
	default:
		if err = s.reserve(size - o.size); err != nil {
			break
		}
		if err = s.allocate(ctx, f, o.size, size); err != nil {
			_ = f.Truncate(o.size) // frees what was preallocated past the old end
		}
	}
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// Connect tells where the volume's file is: protocol "file" with its absolute path, which
// other hosts can use where they mount the pool's filesystem at the same path.
func (d *Driver) Connect(_ context.Context, ref sdk.VolumeRef, _ sdk.Initiator) (sdk.Connection, error) {
	s, o, err := d.find(volumesDir, ref.ID, ref.Pool)
	if err != nil {
		return sdk.Connection{}, err
	}
	defer s.close()
	path := s.path(dataName(volumesDir, o.rec.ID))
	if err := inside(s.info.dir, path); err != nil {
		return sdk.Connection{}, errForeign(s.p.cfg.Name, dataName(volumesDir, o.rec.ID))
	}
	return sdk.Connection{Protocol: "file", Data: map[string]string{"path": path, "format": "raw"}}, nil
}

// Disconnect has nothing to undo: Connect exports nothing.
func (d *Driver) Disconnect(_ context.Context, ref sdk.VolumeRef, _ sdk.Initiator) error {
	return checkID("volume", ref.ID)
}
