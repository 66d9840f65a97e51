-- FBI Crime Data Explorer (CDE). One row per agency, offense, month and series.
--   series: 'offenses' or 'clearances' (the CDE's "<Agency> Offenses" / "<Agency> Clearances").
--   actual: NULL means the CDE had no data ("actuals": null, or a null month): never zero.
--           Negative counts are the agency's corrections and are kept as published.
--   population: the population the agency served that month (CDE populations.population).
--   host:   which CDE host served the figure: 'api.usa.gov' (keyed) or 'cde.ucr.cjis.gov'.
-- Months after the CDE refresh date (the partial latest month) are never loaded.

CREATE TABLE IF NOT EXISTS us_fbi_cde_agency_monthly_versions (
    ori                  VARCHAR NOT NULL,
    offense              VARCHAR NOT NULL,   -- CDE offense code as requested: V, HOM, ...
    month                DATE NOT NULL,      -- first day of the month
    series               VARCHAR NOT NULL,   -- offenses | clearances
    actual               BIGINT,
    rate                 DOUBLE,             -- per 100,000 of the agency's population (CDE)
    agency_name          VARCHAR,
    population           BIGINT,
    host                 VARCHAR NOT NULL,
    max_data_date        DATE,               -- cde_properties.max_data_date (first of month)
    last_refresh_date    DATE,               -- cde_properties.last_refresh_date
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

-- CDE agency list (/agency/byStateAbbr/{ST}).
CREATE TABLE IF NOT EXISTS us_fbi_cde_agencies_versions (
    ori                  VARCHAR NOT NULL,
    agency_name          VARCHAR,
    agency_type          VARCHAR,            -- City, County, State Police, ...
    county               VARCHAR,            -- the county the CDE files the agency under
    counties             VARCHAR,            -- the agency's own "counties" field
    state_abbr           VARCHAR,
    state_name           VARCHAR,
    is_nibrs             BOOLEAN,
    nibrs_start_date     DATE,
    latitude             DOUBLE,
    longitude            DOUBLE,
    host                 VARCHAR NOT NULL,
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
