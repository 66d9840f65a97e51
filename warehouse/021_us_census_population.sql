-- Census Bureau population estimates, one row per geography, vintage, measure and year.
-- Each vintage revises the earlier years, so the vintage is part of the key.
--   measure: 'estimate' (July 1 estimate), 'census' (April 1 census count),
--            'estimates_base' (April 1 base the estimates start from).
--   geo_id:  Census GEO_ID, e.g. 1600000US1714000 (Chicago city), 0500000US12086 (Miami-Dade).

CREATE TABLE IF NOT EXISTS us_census_population_versions (
    geo_id               VARCHAR NOT NULL,
    vintage              INTEGER NOT NULL,
    measure              VARCHAR NOT NULL,
    year                 INTEGER NOT NULL,
    geo_type             VARCHAR NOT NULL,   -- state | county | place
    name                 VARCHAR NOT NULL,   -- as the Census writes it: 'Chicago city, Illinois'
    state_fips           VARCHAR,
    county_fips          VARCHAR,
    place_fips           VARCHAR,
    population           BIGINT,
    record_hash          VARCHAR NOT NULL,
    valid_from           TIMESTAMPTZ NOT NULL,
    valid_to             TIMESTAMPTZ,
    first_observed_at    TIMESTAMPTZ NOT NULL,
    last_observed_at     TIMESTAMPTZ NOT NULL,
    source               VARCHAR NOT NULL,
    source_url           VARCHAR NOT NULL,
    raw_sha256           VARCHAR NOT NULL,
    run_id               VARCHAR NOT NULL
);
