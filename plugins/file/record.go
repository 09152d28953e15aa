package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"syscall"
	"time"

	"github.com/kilnstorage/kiln/sdk"
)

// recordVersion is the version of the record format.
const recordVersion = 1

// maxRecord bounds what is read as a record, so that a stray large file is never slurped.
const maxRecord = 1 << 20

// record is what the driver keeps next to a volume's or snapshot's file, as <id>.json: the
// arguments the object was created with, so that a repeated create is answered from disk after
// a restart. The file itself is the truth for size and allocation.
type record struct {
	Version int    `json:"version"`
	ID      string `json:"id"`
	Name    string `json:"name,omitempty"`
	// RequestedBytes is the size the create asked for (a snapshot: its volume's size), which
	// an identical create repeats even after an extend.
	RequestedBytes   int64  `json:"requested_bytes"`
	Thin             bool   `json:"thin"`
	SourceSnapshotID string `json:"source_snapshot_id,omitempty"`
	SourceVolumeID   string `json:"source_volume_id,omitempty"`
	// CopyMethod is how a copied volume or a snapshot got its data: reflink or sparse-copy.
	CopyMethod string            `json:"copy_method,omitempty"`
	Params     map[string]string `json:"params,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
	CreatedAt  time.Time         `json:"created_at"`
}

// object is a committed volume or snapshot: its record and what its file says.
type object struct {
	rec       record
	size      int64 // apparent size
	allocated int64 // bytes of blocks allocated
}

// idPattern is what a host-assigned ID must look like to name a file: no separators, no dots
// (so "..", "x/../y" and "v.json" are impossible), not empty, not too long.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$`)

// checkID refuses an ID that cannot safely name a file.
func checkID(kind, id string) error {
	if idPattern.MatchString(id) {
		return nil
	}
	e := sdk.ErrorInvalid(kind+"_id", fmt.Sprintf("%q cannot name a file: want 1 to 128 letters, digits, '-' or '_', starting with a letter or digit", id))
	e.Reason = "UNSAFE_ID"
	return e
}

// An object exists when both its file and its record do. A create writes the file, then the
// record; a delete removes the record, then the file. So a crash leaves either a whole object
// or a piece that counts as nothing, which the next create of the ID replaces and the next
// delete removes.
func dataName(dir, id string) string   { return dir + "/" + id }
func recordName(dir, id string) string { return dir + "/" + id + ".json" }
func stagingName(kind, id string) string {
	return stagingDir + "/" + kind + "-" + id
}

// load reads object id in dir; ok is false when it does not exist. A file that is not a
// regular one is refused, never followed.
func (s site) load(dir, id string) (o object, ok bool, err error) {
	info, err := s.root.Lstat(dataName(dir, id))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return object{}, false, nil
	case err != nil:
		return object{}, false, err
	case !info.Mode().IsRegular():
		return object{}, false, errForeign(s.p.cfg.Name, dataName(dir, id))
	}
	f, err := s.root.OpenFile(recordName(dir, id), os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return object{}, false, nil
	} else if err != nil {
		return object{}, false, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxRecord))
	if err != nil {
		return object{}, false, err
	}
	if err := json.Unmarshal(data, &o.rec); err != nil || o.rec.Version != recordVersion || o.rec.ID != id {
		return object{}, false, fmt.Errorf("record %s is not a version %d record of %s (%v)", recordName(dir, id), recordVersion, id, err)
	}
	o.size = info.Size()
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		o.allocated = st.Blocks * 512
	}
	return o, true, nil
}

// commit moves the finished file of kind from staging into dir and then writes its record
// there: the object exists from that moment. Both names are durable when commit returns.
func (s site) commit(kind, dir string, rec record) error {
	rec.Version = recordVersion
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	tmp := stagingName(kind, rec.ID) + ".json"
	if err := s.writeSynced(tmp, data); err != nil {
		return err
	}
	if err := s.root.Rename(stagingName(kind, rec.ID), dataName(dir, rec.ID)); err != nil {
		return err
	}
	if err := s.root.Rename(tmp, recordName(dir, rec.ID)); err != nil {
		return err
	}
	return s.syncDir(dir)
}

func (s site) writeSynced(name string, data []byte) error {
	f, err := create(s.root, name)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// remove deletes object id of kind in dir — its record, then its file, then anything of it left
// in staging. Missing pieces are no error; a piece that is not a regular file is refused.
func (s site) remove(kind, dir, id string) error {
	if info, err := s.root.Lstat(dataName(dir, id)); err == nil && !info.Mode().IsRegular() {
		return errForeign(s.p.cfg.Name, dataName(dir, id))
	}
	names := []string{recordName(dir, id), dataName(dir, id), stagingName(kind, id),
		stagingName(kind, id) + ".json"}
	for _, name := range names {
		if err := s.root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return s.syncDir(dir)
}

// syncDir makes the entries of dir durable.
func (s site) syncDir(dir string) error {
	f, err := s.root.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(f.Sync(), f.Close())
}
