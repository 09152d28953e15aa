package sdk_test

import (
	"encoding/json"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/kilnstorage/kiln"

// forbidden maps a package prefix of this module to the prefixes its dependencies must avoid,
// with the reason. The SDK must stay importable by third-party drivers on the plugin floor;
// plugins must be buildable against the SDK alone; the engine, scheduler and metrics are leaves.
var forbidden = []struct {
	pkg     string
	exact   bool
	banned  []string
	allowed []string // for plugins: the only prefixes of this module they may import
	why     string
}{
	{pkg: module + "/sdk", banned: []string{module + "/host", module + "/plugins", module + "/metrics"},
		why: "the driver SDK must not depend on the host"},
	{pkg: module + "/sdk", exact: true, banned: []string{"github.com/libopenstorage", "github.com/prometheus",
		"github.com/hashicorp/hcl"}, why: "the core SDK stays on the plugin floor (go-plugin, hclog, grpc, protobuf)"},
	{pkg: module + "/plugins", allowed: []string{module + "/sdk"},
		why: "a driver binary imports only the SDK"},
	{pkg: module + "/host/flow", banned: []string{module + "/"}, why: "the flow engine is a leaf"},
	{pkg: module + "/host/scheduler", banned: []string{module + "/"}, why: "the scheduler is a leaf"},
	{pkg: module + "/metrics", banned: []string{module + "/"}, why: "metrics imports nothing of ours"},
}

type listed struct {
	ImportPath string
	Deps       []string
}

func TestDeps(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps=false", "-json", module+"/...")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	checked := 0
	for {
		var p listed
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		checked++
		if p.ImportPath == module+"/sdk" && !slices.Contains(p.Deps, "github.com/hashicorp/go-plugin") {
			t.Fatalf("go list reports no go-plugin among the SDK's deps: %v", p.Deps)
		}
		for _, rule := range forbidden {
			if !applies(rule.pkg, rule.exact, p.ImportPath) {
				continue
			}
			for _, dep := range p.Deps {
				if violates(dep, p.ImportPath, rule.banned, rule.allowed) {
					t.Errorf("%s imports %s: %s", p.ImportPath, dep, rule.why)
				}
			}
		}
	}
	if checked < 5 {
		t.Fatalf("go list found only %d packages", checked)
	}
}

func applies(prefix string, exact bool, pkg string) bool {
	if exact {
		return pkg == prefix
	}
	return pkg == prefix || strings.HasPrefix(pkg, prefix+"/")
}

func violates(dep, self string, banned, allowed []string) bool {
	if dep == self || strings.HasPrefix(dep, self+"/") {
		return false
	}
	for _, b := range banned {
		if strings.HasPrefix(dep, b) {
			return true
		}
	}
	if allowed == nil || !strings.HasPrefix(dep, module+"/") {
		return false
	}
	for _, a := range allowed {
		if dep == a || strings.HasPrefix(dep, a+"/") {
			return false
		}
	}
	return true
}
