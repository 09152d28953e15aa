-- 0001: Kiln's initial schema, the same for SQLite and PostgreSQL.
-- Times are BIGINT microseconds since the Unix epoch, UTC. JSON is TEXT. Flags are BIGINT 0/1.
-- A soft-deleted row has deleted_at set. {{autoid}} is the dialect's auto-increment key.

CREATE TABLE volume_types (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    is_public   BIGINT NOT NULL DEFAULT 1,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT,
    deleted_at  BIGINT
);
CREATE UNIQUE INDEX volume_types_name ON volume_types (name) WHERE deleted_at IS NULL;

CREATE TABLE volume_type_extra_specs (
    volume_type_id TEXT NOT NULL REFERENCES volume_types (id),
    key            TEXT NOT NULL,
    value          TEXT NOT NULL,
    PRIMARY KEY (volume_type_id, key)
);

CREATE TABLE volumes (
    id                TEXT PRIMARY KEY,
    project_id        TEXT NOT NULL,
    user_id           TEXT NOT NULL,
    name              TEXT NOT NULL DEFAULT '',
    description       TEXT NOT NULL DEFAULT '',
    size_bytes        BIGINT NOT NULL,
    status            TEXT NOT NULL,
    previous_status   TEXT NOT NULL DEFAULT '',
    availability_zone TEXT NOT NULL DEFAULT '',
    volume_type_id    TEXT REFERENCES volume_types (id),
    backend           TEXT NOT NULL DEFAULT '',
    pool              TEXT NOT NULL DEFAULT '',
    provider_data     TEXT NOT NULL DEFAULT '{}',
    metadata          TEXT NOT NULL DEFAULT '{}',
    snapshot_id       TEXT,
    source_volid      TEXT,
    attempts          BIGINT NOT NULL DEFAULT 0,
    attempted         TEXT NOT NULL DEFAULT '[]',
    fault             TEXT NOT NULL DEFAULT '',
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT,
    deleted_at        BIGINT
);
CREATE INDEX volumes_project ON volumes (project_id, created_at) WHERE deleted_at IS NULL;
CREATE INDEX volumes_created ON volumes (created_at) WHERE deleted_at IS NULL;

CREATE TABLE snapshots (
    id             TEXT PRIMARY KEY,
    project_id     TEXT NOT NULL,
    user_id        TEXT NOT NULL,
    volume_id      TEXT NOT NULL REFERENCES volumes (id),
    name           TEXT NOT NULL DEFAULT '',
    description    TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL,
    size_bytes     BIGINT NOT NULL,
    volume_type_id TEXT REFERENCES volume_types (id),
    backend        TEXT NOT NULL DEFAULT '',
    pool           TEXT NOT NULL DEFAULT '',
    provider_data  TEXT NOT NULL DEFAULT '{}',
    metadata       TEXT NOT NULL DEFAULT '{}',
    fault          TEXT NOT NULL DEFAULT '',
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT,
    deleted_at     BIGINT
);
CREATE INDEX snapshots_project ON snapshots (project_id, created_at) WHERE deleted_at IS NULL;
CREATE INDEX snapshots_volume ON snapshots (volume_id) WHERE deleted_at IS NULL;

-- Quotas: limits per project (quotas) and per class (quota_classes, class "default"), usage
-- per project and resource, and reservations, each held by the flow that made it.
CREATE TABLE quotas (
    project_id TEXT NOT NULL,
    resource   TEXT NOT NULL,
    hard_limit BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, resource)
);

CREATE TABLE quota_classes (
    class_name TEXT NOT NULL,
    resource   TEXT NOT NULL,
    hard_limit BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (class_name, resource)
);

CREATE TABLE quota_usages (
    project_id TEXT NOT NULL,
    resource   TEXT NOT NULL,
    in_use     BIGINT NOT NULL DEFAULT 0,
    reserved   BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, resource)
);

CREATE TABLE reservations (
    flow_id    TEXT NOT NULL,
    project_id TEXT NOT NULL,
    resource   TEXT NOT NULL,
    delta      BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    PRIMARY KEY (flow_id, project_id, resource),
    FOREIGN KEY (project_id, resource) REFERENCES quota_usages (project_id, resource)
);
CREATE INDEX reservations_usage ON reservations (project_id, resource);

CREATE TABLE services (
    host              TEXT NOT NULL,
    binary_name       TEXT NOT NULL,
    availability_zone TEXT NOT NULL DEFAULT '',
    disabled          BIGINT NOT NULL DEFAULT 0,
    disabled_reason   TEXT NOT NULL DEFAULT '',
    report_count      BIGINT NOT NULL DEFAULT 0,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    PRIMARY KEY (host, binary_name)
);

-- pools: the last capability report of each backend's pool, ordered by the driver's boot id and
-- sequence number, plus the claim ledger's running totals (claimed_*), which RecountClaims
-- recomputes from capacity_claims.
CREATE TABLE pools (
    backend             TEXT NOT NULL,
    pool                TEXT NOT NULL,
    availability_zone   TEXT NOT NULL DEFAULT '',
    state               BIGINT NOT NULL DEFAULT 0,
    state_reason        TEXT NOT NULL DEFAULT '',
    total_bytes         BIGINT NOT NULL DEFAULT 0,
    free_bytes          BIGINT NOT NULL DEFAULT 0,
    provisioned_bytes   BIGINT NOT NULL DEFAULT 0,
    capabilities        TEXT NOT NULL DEFAULT '{}',
    reserved_percentage BIGINT NOT NULL DEFAULT 0,
    max_over_subscription_ratio TEXT NOT NULL DEFAULT '',
    boot_id             TEXT NOT NULL,
    seq                 BIGINT NOT NULL,
    received_at         BIGINT NOT NULL,
    claimed_bytes       BIGINT NOT NULL DEFAULT 0,
    claimed_volumes     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (backend, pool)
);

CREATE TABLE capacity_claims (
    volume_id  TEXT NOT NULL REFERENCES volumes (id),
    flow_id    TEXT NOT NULL,
    backend    TEXT NOT NULL,
    pool       TEXT NOT NULL,
    bytes      BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (volume_id, flow_id),
    FOREIGN KEY (backend, pool) REFERENCES pools (backend, pool)
);
CREATE INDEX capacity_claims_pool ON capacity_claims (backend, pool);
CREATE INDEX capacity_claims_flow ON capacity_claims (flow_id);

CREATE TABLE flow_journal (
    id         TEXT PRIMARY KEY,
    owner      TEXT NOT NULL DEFAULT '',
    flow       TEXT NOT NULL,
    task       BIGINT NOT NULL,
    phase      TEXT NOT NULL,
    state      TEXT NOT NULL,
    failed     BIGINT NOT NULL,
    error      TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX flow_journal_owner ON flow_journal (owner, updated_at);

CREATE TABLE events (
    id         {{autoid}},
    volume_id  TEXT NOT NULL,
    project_id TEXT NOT NULL,
    kind       TEXT NOT NULL,
    at         BIGINT NOT NULL,
    detail     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_volume ON events (volume_id, id);
