-- The windows each source has really been asked for and seen, one row per committed run and
-- dimension (sanctuarywatch/load/coverage.py): `event` spans of event dates fetched in full,
-- `updated` spans of upstream update stamps. Times are the source's local time; covered_to
-- is exclusive. A failed run records nothing; helpers name every gap in a count's window.
CREATE TABLE IF NOT EXISTS source_coverage (
    source        VARCHAR NOT NULL,
    run_id        VARCHAR NOT NULL,
    dimension     VARCHAR NOT NULL,   -- event | updated
    covered_from  TIMESTAMP NOT NULL,
    covered_to    TIMESTAMP NOT NULL,
    observed_at   TIMESTAMPTZ NOT NULL
);
