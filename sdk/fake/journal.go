package fake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// minCompact is the fewest records the log holds before it is compacted. A log may grow to
// twice the live objects beyond that, so that compaction, which writes every object, costs
// each change O(1) on average.
const minCompact = 1024

// errClosed is the error of a change made after Close.
var errClosed = errors.New("the fake driver is closed")

// journal keeps the state durable in two files: a snapshot of the whole state,
// <backend>.json, and a log of the changes made since, <backend>.log, one JSON change per line.
// A change costs one append and one sync of the log; once the log is long, the state is
// written as a new snapshot and the log emptied.
type journal struct {
	snapshot string   // the snapshot file
	path     string   // the log file
	f        *os.File // the log, open for appends
	size     int64    // of the log, up to the end of its last record
	records  int      // in the log
	err      error    // once set, every append fails with it: the log's end is unknown
}

// openJournal opens the state files named base plus ".json" and ".log", creating their
// directory if needed, and returns the state they hold. With forget the files are emptied
// instead of read, as if the backend had lost them (BugForgetsVolumesOnRestart).
func openJournal(base string, forget bool) (*journal, state, error) {
	j := &journal{snapshot: base + ".json", path: base + ".log"}
	dir := filepath.Dir(base)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, state{}, err
	}
	f, err := os.OpenFile(j.path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, state{}, err
	}
	j.f = f
	s := newState()
	if forget {
		err = j.compact(s)
	} else {
		s, err = j.load()
	}
	if err == nil {
		err = syncDir(dir) // the log may be new
	}
	if err != nil {
		return nil, state{}, errors.Join(err, f.Close())
	}
	return j, s, nil
}

// load reads the snapshot and replays the log on it. A torn last record is cut off the log, so
// that the next append starts a line of its own.
func (j *journal) load() (state, error) {
	s, err := readSnapshot(j.snapshot)
	if err != nil {
		return state{}, err
	}
	data, err := io.ReadAll(j.f)
	if err != nil {
		return state{}, fmt.Errorf("log %s: %w", j.path, err)
	}
	records, size, err := replay(&s, data)
	if err != nil {
		return state{}, fmt.Errorf("log %s: %w", j.path, err)
	}
	j.records, j.size = records, int64(len(data))
	if size < len(data) {
		err = j.truncate(int64(size))
	}
	return s, err
}

// replay applies the records of log data to s and returns how many there were and the length
// of data they fill. The last line may be torn, cut short or garbled by a crash during its
// append, which therefore never returned: it is left out. Any other line that does not parse
// is corruption.
func replay(s *state, data []byte) (records, size int, err error) {
	for size < len(data) {
		line, rest, complete := bytes.Cut(data[size:], []byte("\n"))
		var c change
		err := json.Unmarshal(line, &c)
		if len(rest) == 0 && (!complete || err != nil) {
			break
		}
		if err != nil {
			return 0, 0, fmt.Errorf("line %d: %w", records+1, err)
		}
		s.apply(c)
		records++
		size += len(line) + 1
	}
	return records, size, nil
}

// append writes c as the log's last record and returns once it is on disk. A failed append is
// cut off again, so that the log never holds a change its caller was told failed; should that
// fail too, every later append fails, since the log's end is then unknown.
func (j *journal) append(c change) error {
	if j.err != nil {
		return j.err
	}
	line, err := json.Marshal(c)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	if err := j.write(line); err != nil {
		if cut := j.truncate(j.size); cut != nil {
			j.err = fmt.Errorf("log %s: undoing a failed append: %w", j.path, errors.Join(err, cut))
		}
		return fmt.Errorf("log %s: %w", j.path, err)
	}
	j.size += int64(len(line))
	j.records++
	return nil
}

func (j *journal) write(line []byte) error {
	if _, err := j.f.Write(line); err != nil {
		return err
	}
	return j.f.Sync()
}

// truncate cuts the log to size bytes, durably.
func (j *journal) truncate(size int64) error {
	if err := j.f.Truncate(size); err != nil {
		return err
	}
	j.size = size
	return j.f.Sync()
}

// full reports whether the log has grown past what compaction allows with live objects.
func (j *journal) full(live int) bool {
	return j.records > max(minCompact, 2*live)
}

// compact writes s as the snapshot and then empties the log. The snapshot is in place and
// synced before the log is cut, so a crash between the two leaves a log of changes the
// snapshot already holds; replaying them changes nothing, since each record holds the new
// values of what it changes.
func (j *journal) compact(s state) error {
	if err := s.save(j.snapshot); err != nil {
		return fmt.Errorf("snapshot %s: %w", j.snapshot, err)
	}
	if err := j.truncate(0); err != nil {
		return fmt.Errorf("log %s: emptying it after a snapshot: %w", j.path, err)
	}
	j.records = 0
	return nil
}

// close closes the log; later appends fail.
func (j *journal) close() error {
	if j.err == errClosed {
		return nil
	}
	j.err = errClosed
	return j.f.Close()
}

// readSnapshot reads the snapshot file at path; a missing file is an empty backend.
func readSnapshot(path string) (state, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return newState(), nil
	} else if err != nil {
		return state{}, err
	}
	s := newState()
	if err := json.Unmarshal(data, &s); err != nil {
		return state{}, fmt.Errorf("snapshot %s: %w", path, err)
	}
	if s.Version != stateVersion {
		return state{}, fmt.Errorf("snapshot %s: version %d, want %d", path, s.Version, stateVersion)
	}
	return s.orEmpty(), nil
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
