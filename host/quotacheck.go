package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/kilnstorage/kiln/host/store"
)

// errDrift makes `kiln quota check` exit non-zero.
var errDrift = errors.New("quota usage differs from the rows")

// quotaCheckCommand runs `kiln quota check -config FILE [-fix]`: Cinder's `cinder-manage quota
// check|sync`. Like cinder-manage it is an operator's tool that opens the agent's database
// (from the agent's config file) rather than a call of the API: it works while the API is down,
// needs no admin token, and covers every project. It recounts usage from the live volumes,
// snapshots and reservations (store.CheckQuotas), prints every difference and every reservation
// whose flow is in no journal, and fails when there is any; -fix sets usage to the counts.
func quotaCheckCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("quota check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "the agent's configuration `file` (HCL): its database is checked")
	dev := fs.Bool("dev", false, "check the database of `kiln agent -dev`")
	dataDir := fs.String("data-dir", filepath.Join(os.TempDir(), "kiln-dev"), "data `directory`, with -dev")
	fix := fs.Bool("fix", false, "set each usage to its count (cinder-manage quota sync)")
	format := fs.String("format", "table", "output: table or json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 || *path == "" && !*dev {
		return fmt.Errorf("usage: kiln quota check -config FILE | -dev [-data-dir DIR] [-fix] [-format table|json]")
	}
	cfg, err := loadAgentConfig(*path, *dev, "", *dataDir)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, cfg.Database, store.WithQuotaDefaults(cfg.Quota.limits()))
	if err != nil {
		return fmt.Errorf("open the database: %w", err)
	}
	defer st.Close()
	rep, err := st.CheckQuotas(ctx, *fix)
	if err != nil {
		return err
	}
	rows := []map[string]any{}
	for _, d := range rep.Drifts {
		rows = append(rows, map[string]any{"project": d.ProjectID, "resource": d.Resource, "in_use": d.InUse,
			"counted": d.Counted, "reserved": d.Reserved, "held": d.Held, "flow": ""})
	}
	for _, o := range rep.Orphans {
		for res, delta := range o.Deltas {
			rows = append(rows, map[string]any{"project": o.ProjectID, "resource": res, "in_use": "", "counted": "",
				"reserved": delta, "held": "", "flow": o.FlowID + " (in no journal)"})
		}
	}
	if err := render(stdout, *format, rows); err != nil {
		return err
	}
	switch {
	case len(rows) == 0:
		if *format == "table" {
			fmt.Fprintln(stdout, "quota usage equals the rows: no difference")
		}
		return nil
	case *fix:
		fmt.Fprintln(stderr, "kiln: usage set to the counts; orphan reservations rolled back")
		return nil
	}
	return errDrift
}
