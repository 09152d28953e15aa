package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/snapshots"
)

// The snapshot commands: kiln snapshot create|list|show|update|delete.

func snapshotCreateFlags(fs *flag.FlagSet) map[string]*string {
	return map[string]*string{"name": fs.String("name", "", "snapshot name"),
		"description": fs.String("description", "", "snapshot description"),
		"force":       boolFlag(fs, "force", "snapshot an in-use volume too")}
}

// renameFlags are the flags of the update commands: name and description, each left alone
// unless given (its value is then unset).
func renameFlags(fs *flag.FlagSet) map[string]*string {
	return map[string]*string{"name": fs.String("name", unset, "new name"),
		"description": fs.String("description", unset, "new description")}
}

// unset is the value of a flag that was not given; no one can type it.
const unset = "\x00"

// given returns the flag's value, or nil when it was not given.
func given(v *string) *string {
	if *v == unset {
		return nil
	}
	return v
}

func snapshotCreate(ctx context.Context, c *gophercloud.ServiceClient, o map[string]*string, args []string) ([]map[string]any, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("usage: kiln snapshot create [-name NAME] [-description TEXT] [-force] VOLUME_ID")
	}
	force, err := strconv.ParseBool(*o["force"])
	if err != nil {
		return nil, fmt.Errorf("-force %q: want true or false", *o["force"])
	}
	s, err := snapshots.Create(ctx, c, snapshots.CreateOpts{VolumeID: args[0], Name: *o["name"],
		Description: *o["description"], Force: force}).Extract()
	if err != nil {
		return nil, err
	}
	return []map[string]any{snapshotRow(*s)}, nil
}

func snapshotRow(s snapshots.Snapshot) map[string]any {
	return map[string]any{"id": s.ID, "name": s.Name, "size": s.Size, "status": s.Status, "volume_id": s.VolumeID}
}

func snapshotList(ctx context.Context, c *gophercloud.ServiceClient, _ map[string]*string, _ []string) ([]map[string]any, error) {
	pages, err := snapshots.ListDetail(c, snapshots.ListOpts{}).AllPages(ctx)
	if err != nil {
		return nil, err
	}
	snaps, err := snapshots.ExtractSnapshots(pages)
	rows := make([]map[string]any, 0, len(snaps))
	for _, s := range snaps {
		rows = append(rows, snapshotRow(s))
	}
	return rows, err
}

func snapshotShow(ctx context.Context, c *gophercloud.ServiceClient, _ map[string]*string, args []string) ([]map[string]any, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("usage: kiln snapshot show ID")
	}
	s, err := snapshots.Get(ctx, c, args[0]).Extract()
	if err != nil {
		return nil, err
	}
	return []map[string]any{snapshotRow(*s)}, nil
}

func snapshotUpdate(ctx context.Context, c *gophercloud.ServiceClient, o map[string]*string, args []string) ([]map[string]any, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("usage: kiln snapshot update [-name NAME] [-description TEXT] ID")
	}
	s, err := snapshots.Update(ctx, c, args[0], snapshots.UpdateOpts{Name: given(o["name"]),
		Description: given(o["description"])}).Extract()
	if err != nil {
		return nil, err
	}
	return []map[string]any{snapshotRow(*s)}, nil
}

func snapshotDelete(ctx context.Context, c *gophercloud.ServiceClient, _ map[string]*string, args []string) ([]map[string]any, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("usage: kiln snapshot delete ID")
	}
	if err := snapshots.Delete(ctx, c, args[0]).ExtractErr(); err != nil {
		return nil, err
	}
	return []map[string]any{{"id": args[0], "deleted": true}}, nil
}
