-- Core bookkeeping: runs, the raw-response index and per-source state.
-- Fact tables of each source follow the same versioned shape (see sanctuarywatch/load/warehouse.py):
--   <name>_versions holds every version ever observed, <name> (a view) the current one,
--   <name>_as_of(ts) (a table macro) what the data said at time ts.

CREATE TABLE IF NOT EXISTS runs (
    run_id        VARCHAR PRIMARY KEY,
    job           VARCHAR,            -- cron job name, or 'cli' / 'demo' / 'rebuild'
    source        VARCHAR NOT NULL,
    mode          VARCHAR,            -- incremental | backfill | replay | rebuild
    started_at    TIMESTAMPTZ NOT NULL,
    ended_at      TIMESTAMPTZ,
    status        VARCHAR NOT NULL,   -- running | success | failed | abandoned
    requests      INTEGER,
    rows_seen     BIGINT,
    rows_written  BIGINT,             -- new versions written (0 when nothing changed upstream)
    error         VARCHAR
);

-- One row per response fetched in a successful load; bodies live in the raw archive,
-- content-addressed by sha256 (warehouse/raw/<sha[:2]>/<sha>.gz).
CREATE TABLE IF NOT EXISTS raw_responses (
    sha256        VARCHAR NOT NULL,
    run_id        VARCHAR NOT NULL,
    source        VARCHAR NOT NULL,
    url           VARCHAR NOT NULL,   -- secrets removed
    kind          VARCHAR NOT NULL,
    status        INTEGER NOT NULL,
    content_type  VARCHAR,
    fetched_at    TIMESTAMPTZ NOT NULL,
    bytes         BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS source_state (
    source        VARCHAR PRIMARY KEY,
    watermark     VARCHAR,            -- source-defined (e.g. Socrata :updated_at)
    complete_through TIMESTAMP,       -- newest event time the source is known to cover
    updated_at    TIMESTAMPTZ
);
