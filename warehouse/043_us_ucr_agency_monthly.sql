-- FBI UCR Return A, monthly, per agency (Jacob Kaplan's per-agency files): one row per
-- agency, month and offense, as served. Reporting patterns are read from these rows in 044.
--   ori:      the 9-character ORI the job names (the file's own ORI column has 7 characters)
--   offense:  murder (murder and non-negligent manslaughter), manslaughter (by negligence),
--             rape, robbery, aggravated_assault, simple_assault, burglary, theft,
--             motor_vehicle_theft, violent_crime, property_crime, index_crime, all_crimes
--   actual / cleared / cleared_under_18 / unfounded: the file's actual_, tot_clr_, clr_18_ and
--             unfound_ columns; NULL when blank (never zero); negative adjustments as served
--   population: the population the FBI assigns the agency that year
--   card_*:   Kaplan's decoding of the Return A card status ('normal return', 'adjustment',
--             'totals only', 'not updated', ...); NULL when blank: no return for the month

CREATE TABLE IF NOT EXISTS us_ucr_agency_monthly_versions (
    ori                  VARCHAR NOT NULL,
    month                DATE NOT NULL,      -- first day of the reporting month
    offense              VARCHAR NOT NULL,
    actual               BIGINT,
    cleared              BIGINT,
    cleared_under_18     BIGINT,
    unfounded            BIGINT,
    agency_name          VARCHAR,
    state                VARCHAR,
    population           BIGINT,
    card_actual_type     VARCHAR,
    card_actual_pt       VARCHAR,
    card_tot_clr_type    VARCHAR,
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
