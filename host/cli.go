package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/schedulerstats"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/services"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/snapshots"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumetypes"
)

// The client commands speak the Cinder API through gophercloud, as any OpenStack client would.

// clientFlags are the flags every client command takes; the environment gives the defaults.
type clientFlags struct {
	endpoint, token, project, format string
}

func (c *clientFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.endpoint, "endpoint", envOr("KILN_ENDPOINT", "http://127.0.0.1:8776/v3"), "API `URL` up to /v3 ($KILN_ENDPOINT)")
	fs.StringVar(&c.token, "token", envOr("KILN_TOKEN", "admin:admin"), "auth token; noauth takes user:project ($KILN_TOKEN)")
	fs.StringVar(&c.project, "project", os.Getenv("KILN_PROJECT"), "project ID; default the token's project part ($KILN_PROJECT)")
	fs.StringVar(&c.format, "format", "table", "output: table or json")
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// client builds the block-storage client for the project.
func (c *clientFlags) client() (*gophercloud.ServiceClient, error) {
	project := c.project
	if project == "" {
		_, p, ok := strings.Cut(c.token, ":")
		if !ok {
			return nil, fmt.Errorf("give -project (the token names none)")
		}
		project = p
	}
	provider := &gophercloud.ProviderClient{TokenID: c.token}
	return &gophercloud.ServiceClient{ProviderClient: provider, Type: "block-storage",
		Endpoint: gophercloud.NormalizeURL(gophercloud.NormalizeURL(c.endpoint) + project)}, nil
}

// clientCommand runs `kiln RESOURCE ACTION [flags] [args]`.
func clientCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		return fmt.Errorf("usage: kiln volume|snapshot|type|pool|service|quota ACTION [flags]")
	}
	cmd, ok := commands[args[0]+" "+args[1]]
	if !ok {
		return fmt.Errorf("unknown command %q", args[0]+" "+args[1])
	}
	fs := flag.NewFlagSet(args[0]+" "+args[1], flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf clientFlags
	cf.register(fs)
	opts := cmd.flags(fs)
	if err := fs.Parse(args[2:]); err != nil {
		return err
	}
	c, err := cf.client()
	if err != nil {
		return err
	}
	rows, err := cmd.run(ctx, c, opts, fs.Args())
	if err != nil {
		return err
	}
	return render(stdout, cf.format, rows)
}

// command is one client command: its own flags and what it does.
type command struct {
	flags func(*flag.FlagSet) map[string]*string
	run   func(ctx context.Context, c *gophercloud.ServiceClient, opts map[string]*string, args []string) ([]map[string]any, error)
}

func noFlags(*flag.FlagSet) map[string]*string { return nil }

var commands = map[string]command{
	"volume create": {flags: func(fs *flag.FlagSet) map[string]*string {
		return map[string]*string{"name": fs.String("name", "", "volume name"),
			"size": fs.String("size", "", "size in GiB (default 1, or the source's)"),
			"type": fs.String("type", "", "volume type"), "zone": fs.String("zone", "", "availability zone"),
			"snapshot":      fs.String("snapshot", "", "create from this snapshot `ID`"),
			"source-volume": fs.String("source-volume", "", "clone this volume `ID`")}
	}, run: volumeCreate},
	"volume list": {flags: noFlags, run: volumeList},
	"volume show": {flags: noFlags, run: volumeShow},
	"volume delete": {flags: func(fs *flag.FlagSet) map[string]*string {
		return map[string]*string{"cascade": boolFlag(fs, "cascade", "delete its snapshots first"),
			"force": boolFlag(fs, "force", "admin: delete from any status (os-force_delete)")}
	}, run: volumeDelete},
	"volume update":       {flags: renameFlags, run: volumeUpdate},
	"volume extend":       {flags: noFlags, run: volumeExtend},
	"volume reset-status": {flags: noFlags, run: volumeResetStatus},
	"type list":           {flags: noFlags, run: typeList},
	"type create":         {flags: noFlags, run: typeCreate},
	"pool list":           {flags: noFlags, run: poolList},
	"service list":        {flags: noFlags, run: serviceList},
	"quota show":          {flags: noFlags, run: quotaShow},

	"snapshot create":       {flags: snapshotCreateFlags, run: snapshotCreate},
	"snapshot list":         {flags: noFlags, run: snapshotList},
	"snapshot show":         {flags: noFlags, run: snapshotShow},
	"snapshot update":       {flags: renameFlags, run: snapshotUpdate},
	"snapshot delete":       {flags: noFlags, run: snapshotDelete},
	"snapshot reset-status": {flags: noFlags, run: snapshotResetStatus},
	"snapshot force-delete": {flags: noFlags, run: snapshotForceDelete},
}

func volumeCreate(ctx context.Context, c *gophercloud.ServiceClient, o map[string]*string, _ []string) ([]map[string]any, error) {
	size := 0 // a copy's size defaults to its source's
	if *o["size"] == "" && *o["snapshot"] == "" && *o["source-volume"] == "" {
		size = 1
	} else if *o["size"] != "" {
		if _, err := fmt.Sscan(*o["size"], &size); err != nil || size <= 0 {
			return nil, fmt.Errorf("-size %q: want a positive whole number of GiB", *o["size"])
		}
	}
	v, err := volumes.Create(ctx, c, volumes.CreateOpts{Name: *o["name"], Size: size, VolumeType: *o["type"],
		AvailabilityZone: *o["zone"], SnapshotID: *o["snapshot"], SourceVolID: *o["source-volume"]}, nil).Extract()
	if err != nil {
		return nil, err
	}
	return []map[string]any{volumeRow(*v)}, nil
}

func volumeRow(v volumes.Volume) map[string]any {
	// source is the snapshot or volume it was made from, if any (at most one is set).
	return map[string]any{"id": v.ID, "name": v.Name, "size": v.Size, "status": v.Status, "type": v.VolumeType,
		"zone": v.AvailabilityZone, "source": v.SnapshotID + v.SourceVolID}
}

func volumeList(ctx context.Context, c *gophercloud.ServiceClient, _ map[string]*string, _ []string) ([]map[string]any, error) {
	pages, err := volumes.List(c, volumes.ListOpts{}).AllPages(ctx)
	if err != nil {
		return nil, err
	}
	vols, err := volumes.ExtractVolumes(pages)
	rows := make([]map[string]any, 0, len(vols))
	for _, v := range vols {
		rows = append(rows, volumeRow(v))
	}
	return rows, err
}

func volumeShow(ctx context.Context, c *gophercloud.ServiceClient, _ map[string]*string, args []string) ([]map[string]any, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("usage: kiln volume show ID")
	}
	v, err := volumes.Get(ctx, c, args[0]).Extract()
	if err != nil {
		return nil, err
	}
	return []map[string]any{volumeRow(*v)}, nil
}

func volumeDelete(ctx context.Context, c *gophercloud.ServiceClient, o map[string]*string, args []string) ([]map[string]any, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("usage: kiln volume delete [-cascade | -force] ID")
	}
	cascade, force := *o["cascade"] == "true", *o["force"] == "true"
	var err error
	switch {
	case cascade && force:
		return nil, fmt.Errorf("-cascade and -force exclude each other (a forced cascade needs microversion 3.23)")
	case force:
		err = volumes.ForceDelete(ctx, c, args[0]).ExtractErr()
	default:
		err = volumes.Delete(ctx, c, args[0], volumes.DeleteOpts{Cascade: cascade}).ExtractErr()
	}
	if err != nil {
		return nil, err
	}
	return []map[string]any{{"id": args[0], "deleted": true}}, nil
}

// boolFlag registers a boolean flag in the string-valued option map ("true" or "false").
func boolFlag(fs *flag.FlagSet, name, usage string) *string {
	v := new(string)
	*v = "false"
	fs.BoolFunc(name, usage, func(s string) error {
		b, err := strconv.ParseBool(s)
		*v = strconv.FormatBool(b)
		return err
	})
	return v
}

func volumeUpdate(ctx context.Context, c *gophercloud.ServiceClient, o map[string]*string, args []string) ([]map[string]any, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("usage: kiln volume update [-name NAME] [-description TEXT] ID")
	}
	v, err := volumes.Update(ctx, c, args[0], volumes.UpdateOpts{Name: given(o["name"]),
		Description: given(o["description"])}).Extract()
	if err != nil {
		return nil, err
	}
	return []map[string]any{volumeRow(*v)}, nil
}

func volumeExtend(ctx context.Context, c *gophercloud.ServiceClient, _ map[string]*string, args []string) ([]map[string]any, error) {
	var size int
	if len(args) != 2 {
		return nil, fmt.Errorf("usage: kiln volume extend ID SIZE")
	}
	if _, err := fmt.Sscan(args[1], &size); err != nil {
		return nil, fmt.Errorf("SIZE %q: want a whole number of GiB", args[1])
	}
	if err := volumes.ExtendSize(ctx, c, args[0], volumes.ExtendSizeOpts{NewSize: size}).ExtractErr(); err != nil {
		return nil, err
	}
	return volumeShow(ctx, c, nil, args[:1])
}

func volumeResetStatus(ctx context.Context, c *gophercloud.ServiceClient, _ map[string]*string, args []string) ([]map[string]any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("usage: kiln volume reset-status ID STATUS")
	}
	if err := volumes.ResetStatus(ctx, c, args[0], volumes.ResetStatusOpts{Status: args[1]}).ExtractErr(); err != nil {
		return nil, err
	}
	return volumeShow(ctx, c, nil, args[:1])
}

func snapshotResetStatus(ctx context.Context, c *gophercloud.ServiceClient, _ map[string]*string, args []string) ([]map[string]any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("usage: kiln snapshot reset-status ID STATUS")
	}
	if err := snapshots.ResetStatus(ctx, c, args[0], snapshots.ResetStatusOpts{Status: args[1]}).ExtractErr(); err != nil {
		return nil, err
	}
	return []map[string]any{{"id": args[0], "status": args[1]}}, nil
}

func snapshotForceDelete(ctx context.Context, c *gophercloud.ServiceClient, _ map[string]*string, args []string) ([]map[string]any, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("usage: kiln snapshot force-delete ID")
	}
	if err := snapshots.ForceDelete(ctx, c, args[0]).ExtractErr(); err != nil {
		return nil, err
	}
	return []map[string]any{{"id": args[0], "deleted": true}}, nil
}

func typeList(ctx context.Context, c *gophercloud.ServiceClient, _ map[string]*string, _ []string) ([]map[string]any, error) {
	pages, err := volumetypes.List(c, volumetypes.ListOpts{}).AllPages(ctx)
	if err != nil {
		return nil, err
	}
	types, err := volumetypes.ExtractVolumeTypes(pages)
	rows := make([]map[string]any, 0, len(types))
	for _, t := range types {
		rows = append(rows, map[string]any{"id": t.ID, "name": t.Name, "extra_specs": t.ExtraSpecs})
	}
	return rows, err
}

func typeCreate(ctx context.Context, c *gophercloud.ServiceClient, _ map[string]*string, args []string) ([]map[string]any, error) {
	if len(args) < 1 {
		return nil, fmt.Errorf("usage: kiln type create NAME [KEY=VALUE ...]")
	}
	specs := map[string]string{}
	for _, kv := range args[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("extra spec %q: want KEY=VALUE", kv)
		}
		specs[k] = v
	}
	t, err := volumetypes.Create(ctx, c, volumetypes.CreateOpts{Name: args[0], ExtraSpecs: specs}).Extract()
	if err != nil {
		return nil, err
	}
	return []map[string]any{{"id": t.ID, "name": t.Name, "extra_specs": t.ExtraSpecs}}, nil
}

func poolList(ctx context.Context, c *gophercloud.ServiceClient, _ map[string]*string, _ []string) ([]map[string]any, error) {
	pages, err := schedulerstats.List(c, schedulerstats.ListOpts{Detail: true}).AllPages(ctx)
	if err != nil {
		return nil, err
	}
	pools, err := schedulerstats.ExtractStoragePools(pages)
	rows := make([]map[string]any, 0, len(pools))
	for _, p := range pools {
		rows = append(rows, map[string]any{"name": p.Name, "total_gb": p.Capabilities.TotalCapacityGB,
			"free_gb": p.Capabilities.FreeCapacityGB, "allocated_gb": p.Capabilities.AllocatedCapacityGB})
	}
	return rows, err
}

func serviceList(ctx context.Context, c *gophercloud.ServiceClient, _ map[string]*string, _ []string) ([]map[string]any, error) {
	pages, err := services.List(c, services.ListOpts{}).AllPages(ctx)
	if err != nil {
		return nil, err
	}
	svcs, err := services.ExtractServices(pages)
	rows := make([]map[string]any, 0, len(svcs))
	for _, s := range svcs {
		rows = append(rows, map[string]any{"host": s.Host, "binary": s.Binary, "zone": s.Zone, "status": s.Status, "state": s.State})
	}
	return rows, err
}

func quotaShow(ctx context.Context, c *gophercloud.ServiceClient, _ map[string]*string, args []string) ([]map[string]any, error) {
	project := strings.TrimSuffix(c.Endpoint[strings.LastIndex(strings.TrimSuffix(c.Endpoint, "/"), "/")+1:], "/")
	if len(args) == 1 {
		project = args[0]
	}
	q, err := quotasets.GetUsage(ctx, c, project).Extract()
	if err != nil {
		return nil, err
	}
	row := func(name string, u quotasets.QuotaUsage) map[string]any {
		return map[string]any{"resource": name, "limit": u.Limit, "in_use": u.InUse, "reserved": u.Reserved}
	}
	return []map[string]any{row("volumes", q.Volumes), row("snapshots", q.Snapshots), row("gigabytes", q.Gigabytes)}, nil
}

// render prints rows as JSON or as a table whose columns are the first row's keys, sorted.
func render(w io.Writer, format string, rows []map[string]any) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	if format != "table" {
		return fmt.Errorf("-format %q: want table or json", format)
	}
	if len(rows) == 0 {
		return nil
	}
	var cols []string
	for k := range rows[0] {
		cols = append(cols, k)
	}
	slices.Sort(cols)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(cols, "\t")))
	for _, r := range rows {
		vals := make([]string, len(cols))
		for i, c := range cols {
			vals[i] = fmt.Sprint(r[c])
		}
		fmt.Fprintln(tw, strings.Join(vals, "\t"))
	}
	return tw.Flush()
}
