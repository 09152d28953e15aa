-- Every index a write touches costs the write a page in the write-ahead log. Two indexes were
-- heavier than what reads them:
--
-- The source lock (0002) looks up volumes by snapshot_id or source_volid, which most volumes
-- do not have, and the indexes carry status, so each status change of any volume rewrote an
-- entry of both. Volumes without a source now have no entry.
DROP INDEX volumes_snapshot;
DROP INDEX volumes_source;
CREATE INDEX volumes_snapshot ON volumes (snapshot_id, status) WHERE snapshot_id IS NOT NULL AND deleted_at IS NULL;
CREATE INDEX volumes_source ON volumes (source_volid, status) WHERE source_volid IS NOT NULL AND deleted_at IS NULL;
-- The journal's owner index carried updated_at, which every saved boundary changes; only the
-- recovery at start-up orders by it, and it sorts the owner's few unfinished flows itself.
DROP INDEX flow_journal_owner;
CREATE INDEX flow_journal_owner ON flow_journal (owner);
