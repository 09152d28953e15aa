-- The source lock (sources.go) counts the volumes being created from a snapshot or a volume
-- whenever one of those moves to deleting; these make that a lookup, not a scan of every live
-- volume.
CREATE INDEX volumes_snapshot ON volumes (snapshot_id, status) WHERE deleted_at IS NULL;
CREATE INDEX volumes_source ON volumes (source_volid, status) WHERE deleted_at IS NULL;
