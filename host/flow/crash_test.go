package flow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fileJournal keeps one JSON file per flow, written atomically, so that a journal survives the
// process that wrote it.
type fileJournal struct{ dir string }

func (j fileJournal) Save(_ context.Context, e Entry) error {
	raw, err := json.Marshal(e)
	if err != nil {
		return err
	}
	tmp := filepath.Join(j.dir, e.ID+".tmp")
	if err := writeSynced(tmp, raw, os.O_CREATE|os.O_TRUNC|os.O_WRONLY); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(j.dir, e.ID+".json"))
}

func (j fileJournal) Finish(_ context.Context, id string) error {
	err := os.Remove(filepath.Join(j.dir, id+".json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

func (j fileJournal) Unfinished(context.Context) ([]Entry, error) {
	paths, err := filepath.Glob(filepath.Join(j.dir, "*.json"))
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var e Entry
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func writeSynced(path string, data []byte, flag int) error {
	f, err := os.OpenFile(path, flag, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// crashingJournal ends the process, without any cleanup, right after its nth Save is durable:
// at a task boundary.
type crashingJournal struct {
	fileJournal
	n, saves int
}

func (j *crashingJournal) Save(ctx context.Context, e Entry) error {
	if err := j.fileJournal.Save(ctx, e); err != nil {
		return err
	}
	if j.saves++; j.saves == j.n {
		os.Exit(3)
	}
	return nil
}

// crashFlow has four tasks that log every execute and revert to a file; b and d may run again
// after a crash, a and c may not. In scenario "fail", c's execute fails.
func crashFlow(logPath, scenario string) *Flow[state] {
	resume := map[string]bool{"b": true, "d": true}
	f := &Flow[state]{Name: "crash"}
	for _, name := range []string{"a", "b", "c", "d"} {
		f.Tasks = append(f.Tasks, Task[state]{Name: name, Resume: resume[name],
			Execute: func(_ context.Context, s *state) error {
				appendLine(logPath, "exec "+name)
				if name == "c" && scenario == "fail" {
					return errors.New("boom")
				}
				s.Done = append(s.Done, name)
				return nil
			},
			Revert: func(_ context.Context, _ *state, failure error) error {
				appendLine(logPath, fmt.Sprintf("revert %s (%v)", name, failure))
				return nil
			}})
	}
	return f
}

func appendLine(path, line string) {
	if err := writeSynced(path, []byte(line+"\n"), os.O_CREATE|os.O_APPEND|os.O_WRONLY); err != nil {
		panic(err)
	}
}

// TestCrashChild runs the crash flow in a child process of TestCrashAtEveryBoundary.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv("KILN_FLOW_CRASH_DIR")
	if dir == "" {
		t.Skip("run by TestCrashAtEveryBoundary in a child process")
	}
	n, _ := strconv.Atoi(os.Getenv("KILN_FLOW_CRASH_AT"))
	j := &crashingJournal{fileJournal: fileJournal{dir: dir}, n: n}
	f := crashFlow(filepath.Join(dir, "log"), os.Getenv("KILN_FLOW_SCENARIO"))
	_ = f.Run(context.Background(), &Engine{Journal: j}, "flow-1", &state{})
}

// TestCrashAtEveryBoundary kills a child process running a flow right after each journal write
// (every task boundary, forward and in reverse), then recovers in this process and requires
// the flow to end in a final state having run every execute and every revert it should, once.
func TestCrashAtEveryBoundary(t *testing.T) {
	for _, scenario := range []string{"succeed", "fail"} {
		for n := 1; ; n++ {
			dir := t.TempDir()
			completed := runChild(t, dir, scenario, n)
			f := crashFlow(filepath.Join(dir, "log"), scenario)
			j := fileJournal{dir: dir}
			if _, err := (&Engine{Journal: j}).Recover(context.Background(), f); err != nil {
				t.Fatalf("%s, crash after save %d: Recover: %v", scenario, n, err)
			}
			if left, _ := j.Unfinished(context.Background()); len(left) != 0 {
				t.Errorf("%s, crash after save %d: unfinished after recovery: %+v", scenario, n, left)
			}
			got, _ := os.ReadFile(filepath.Join(dir, "log"))
			want := expectedLog(scenario, n, completed)
			if diff := cmp.Diff(want, strings.Fields(strings.ReplaceAll(string(got), " ", "_"))); diff != "" {
				t.Errorf("%s, crash after save %d (-want +got):\n%s", scenario, n, diff)
			}
			if completed {
				t.Logf("%s: crashed at %d boundaries, then ran to completion", scenario, n-1)
				break
			}
		}
	}
}

// runChild runs TestCrashChild crashing at save n; it reports whether the flow completed first.
func runChild(t *testing.T, dir, scenario string, n int) bool {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "KILN_FLOW_CRASH_DIR="+dir, "KILN_FLOW_SCENARIO="+scenario,
		"KILN_FLOW_CRASH_AT="+strconv.Itoa(n))
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return true
	case errors.As(err, &exit) && exit.ExitCode() == 3:
		return false
	}
	t.Fatalf("child: %v\n%s", err, out)
	return false
}

// expectedLog is what the two processes together must have logged when the child died right
// after its nth journal write, following the engine's rules: a crash while executing resumes
// when that task declares Resume (b, d) and reverts otherwise; a crash while reverting reverts
// the rest; every step runs once.
func expectedLog(scenario string, n int, completed bool) []string {
	tasks := []string{"a", "b", "c", "d"}
	resume := map[string]bool{"b": true, "d": true}
	const interrupted = "flow:_interrupted_by_a_crash"
	run := func(from int) (log []string) { // forward from a task, as a fresh run would go
		for i := from; i < len(tasks); i++ {
			log = append(log, "exec_"+tasks[i])
			if scenario == "fail" && tasks[i] == "c" {
				log = append(log, "revert_c_(boom)")
				return append(log, reverts(i-1, "")...)
			}
		}
		return log
	}
	if completed {
		return run(0)
	}
	var log []string
	for i := range min(n-1, len(tasks)) { // saves 1..4 are "executing task n-1"
		log = append(log, "exec_"+tasks[i])
	}
	if n <= len(tasks) && (scenario != "fail" || n <= 3) {
		k := n - 1 // the task about to run
		if resume[tasks[k]] {
			return append(log, run(k)...)
		}
		return append(append(log, "revert_"+tasks[k]+"_("+interrupted+")"), reverts(k-1, "")...)
	}
	// Scenario fail, save n ≥ 4: "reverting task 2-(n-4)", after c failed and the reverts above.
	j := 2 - (n - 4)
	log = []string{"exec_a", "exec_b", "exec_c"}
	log = append(log, reverts(2, "boom")[:2-j]...)
	failure := ""
	if j == 2 {
		failure = interrupted + ":_boom"
	}
	return append(log, reverts(j, failure)...)
}

// reverts lists the reverts of tasks top … a; the first gets failure (when not empty).
func reverts(top int, failure string) (log []string) {
	tasks := []string{"a", "b", "c", "d"}
	for i := top; i >= 0; i-- {
		f := "<nil>"
		if i == top && failure != "" {
			f = failure
		}
		log = append(log, "revert_"+tasks[i]+"_("+f+")")
	}
	return log
}
