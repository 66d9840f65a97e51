-- Figures that exist only in publications (surveys, state tables, press), values as printed.
-- publication_url is where the figure was published (source_url is the file it was loaded from).
CREATE TABLE IF NOT EXISTS published_figures_versions (
    figure_id                 VARCHAR NOT NULL,
    jurisdiction              VARCHAR,
    reporting_body            VARCHAR,
    measure                   VARCHAR,
    period_start              TIMESTAMP,
    period_end                TIMESTAMP,   -- inclusive, as published
    value                     DOUBLE,
    unit                      VARCHAR,     -- count | percent | usd
    compared_to_period_start  TIMESTAMP,
    compared_to_period_end    TIMESTAMP,
    published_on              DATE,
    publication_url           VARCHAR,
    note                      VARCHAR,
    record_hash               VARCHAR NOT NULL,
    valid_from                TIMESTAMPTZ NOT NULL,
    valid_to                  TIMESTAMPTZ,
    first_observed_at         TIMESTAMPTZ NOT NULL,
    last_observed_at          TIMESTAMPTZ NOT NULL,
    source                    VARCHAR NOT NULL,
    source_url                VARCHAR NOT NULL,
    raw_sha256                VARCHAR NOT NULL,
    run_id                    VARCHAR NOT NULL
);
