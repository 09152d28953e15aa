package drivertest_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/kilnstorage/kiln/sdk/drivertest"
	"github.com/kilnstorage/kiln/sdk/fake"
)

// caught says, for each seeded bug of the fake, the clauses of which at least one must fail,
// and which clauses a run needs (empty: the whole kit).
var caught = map[string]struct {
	clauses []string
	run     string
}{
	fake.BugNonIdempotentCreate:      {clauses: []string{"I1/one-backend-object", "K1/same-id-parallel"}},
	fake.BugLeakCapacityOnDelete:     {clauses: []string{"A2/delete-gives-back"}},
	fake.BugWrongCodeOnMissingSource: {clauses: []string{"E2/missing-snapshot-NotFound", "E3/missing-clone-source-NotFound"}},
	fake.BugForgetsVolumesOnRestart:  {clauses: []string{"R1/volumes-survive-restart"}},
	fake.BugDeleteMissingErrors:      {clauses: []string{"I2/delete-missing-ok"}},
	fake.BugPrintsToStdout:           {clauses: []string{"H5/stdout-silent"}},
	// With a create latency beyond the kit's cancellation grace, a whole run would take
	// minutes; the cancellation group alone shows the bug.
	fake.BugIgnoresCtx: {clauses: []string{"Z1/cancel-mid-create"}, run: "Z1"},
}

// TestSeededBugs proves the kit's strength: it runs the kit against the fake with each seeded
// bug switched on, in a child process, and requires a named clause to fail.
func TestSeededBugs(t *testing.T) {
	if len(caught) != len(fake.Bugs) {
		t.Fatalf("the fake has %d seeded bugs, this test knows %d", len(fake.Bugs), len(caught))
	}
	bin := buildFake(t)
	failLine := regexp.MustCompile(`--- FAIL: TestSeededBugChild/(\S+)`)
	for _, bug := range fake.Bugs {
		t.Run(bug, func(t *testing.T) {
			want := caught[bug]
			args := []string{"-test.run=^TestSeededBugChild$/" + want.run, "-test.v", "-test.count=1"}
			cmd := exec.Command(os.Args[0], args...)
			cmd.Env = append(os.Environ(), "KILN_SEEDED_BUG="+bug, "KILN_FAKE_BINARY="+bin)
			out, err := cmd.CombinedOutput()
			var failed []string
			for _, m := range failLine.FindAllStringSubmatch(string(out), -1) {
				failed = append(failed, m[1])
			}
			if err == nil || !slices.ContainsFunc(want.clauses, func(c string) bool { return slices.Contains(failed, c) }) {
				t.Errorf("bug %s: the kit failed %v (exit: %v), want one of %v\n%s", bug, failed, err, want.clauses, out)
			}
			t.Logf("bug %s fails %v", bug, failed)
		})
	}
}

// TestSeededBugChild is the kit run that TestSeededBugs starts in a child process.
func TestSeededBugChild(t *testing.T) {
	bug := os.Getenv("KILN_SEEDED_BUG")
	if bug == "" {
		t.Skip("run by TestSeededBugs in a child process")
	}
	extra := map[string]any{"bugs": []string{bug}}
	cfg := drivertest.Config{Plugin: fake.Plugin, Transport: drivertest.GRPC}
	switch bug {
	case fake.BugPrintsToStdout:
		cfg = drivertest.Config{Binary: os.Getenv("KILN_FAKE_BINARY"), Transport: drivertest.Binary}
	case fake.BugIgnoresCtx:
		extra["latency"] = map[string]string{"create_volume": "3s"}
	}
	cfg.DriverConfig = fake.KitConfig(t.TempDir(), extra)
	drivertest.Run(t, cfg)
}

func buildFake(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kiln-driver-fake")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/kilnstorage/kiln/plugins/fake").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
