-- Chicago Data Portal: "Crimes - 2001 to Present" (ijzp-q8t2). Homicides are one row per victim.
-- Timestamps are Chicago wall-clock time (occurred_local) and the same instant in UTC (occurred_at).
-- offense_class: 'murder' = IUCR 0110 (first-degree murder, FBI 01A);
--                'homicide_other' = other HOMICIDE IUCRs (0130, 0141, 0142); NULL otherwise.

CREATE TABLE IF NOT EXISTS il_chicago_crimes_versions (
    id                   BIGINT NOT NULL,
    case_number          VARCHAR,
    occurred_local       TIMESTAMP,
    occurred_at          TIMESTAMPTZ,
    block                VARCHAR,
    iucr                 VARCHAR,
    primary_type         VARCHAR,
    description          VARCHAR,
    location_description VARCHAR,
    arrest               BOOLEAN,
    domestic             BOOLEAN,
    beat                 VARCHAR,
    district             VARCHAR,
    ward                 INTEGER,
    community_area       INTEGER,
    fbi_code             VARCHAR,
    x_coordinate         DOUBLE,
    y_coordinate         DOUBLE,
    year                 INTEGER,
    updated_on           TIMESTAMP,
    latitude             DOUBLE,
    longitude            DOUBLE,
    offense_class        VARCHAR,
    portal_updated_at    TIMESTAMP,   -- Socrata :updated_at (UTC)
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

-- Violence Reduction - Victims of Homicides and Non-Fatal Shootings (gumc-mgzr).
CREATE TABLE IF NOT EXISTS il_chicago_violence_victims_versions (
    unique_id               VARCHAR NOT NULL,
    case_number             VARCHAR,
    occurred_local          TIMESTAMP,
    occurred_at             TIMESTAMPTZ,
    block                   VARCHAR,
    victimization_primary   VARCHAR,
    incident_primary        VARCHAR,
    gunshot_injury          BOOLEAN,     -- Y/N; NULL for UNKNOWN
    is_homicide             BOOLEAN,
    victimization_iucr_cd   VARCHAR,
    victimization_fbi_cd    VARCHAR,
    zip_code                VARCHAR,
    ward                    INTEGER,
    community_area          VARCHAR,
    area                    INTEGER,
    district                VARCHAR,
    beat                    VARCHAR,
    age                     VARCHAR,
    sex                     VARCHAR,
    race                    VARCHAR,
    location_description    VARCHAR,
    updated                 TIMESTAMP,
    latitude                DOUBLE,
    longitude               DOUBLE,
    record_hash             VARCHAR NOT NULL,
    valid_from              TIMESTAMPTZ NOT NULL,
    valid_to                TIMESTAMPTZ,
    first_observed_at       TIMESTAMPTZ NOT NULL,
    last_observed_at        TIMESTAMPTZ NOT NULL,
    source                  VARCHAR NOT NULL,
    source_url              VARCHAR NOT NULL,
    raw_sha256              VARCHAR NOT NULL,
    run_id                  VARCHAR NOT NULL
);
