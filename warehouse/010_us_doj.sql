-- DOJ news (justice.gov): press releases from the news API, speeches from the HTML pages,
-- and what sanctuarywatch derives from their text (relevance tags, jurisdictions named, numbers
-- stated). Keys: releases by `uuid` (the API's stable id; `vuuid` changes on every edit, so an
-- edit is a new version); speeches by `url`. The release number (YY-NNN) is a secondary key:
-- `release_number` holds it when well formed, `number_raw` what the API sent (null or odd).
-- Dates: release_date is the day in America/New_York; created_at/changed_at are instants.
-- `created` can be a bulk-migration time and is never the release date.
-- Derived rows (tags, mentions, numbers) are keyed by document and ordinal; when an edit removes
-- a mention its old row stays current (the loader closes versions, it does not delete rows).

-- One row per press release (components and topics also as '; '-joined names).
CREATE TABLE IF NOT EXISTS us_doj_press_releases_versions (
    uuid                 VARCHAR NOT NULL,
    vuuid                VARCHAR,
    release_number       VARCHAR,
    number_raw           VARCHAR,
    title                VARCHAR,
    teaser_text          VARCHAR,
    body_text            VARCHAR,
    release_date         DATE,
    created_at           TIMESTAMPTZ,
    changed_at           TIMESTAMPTZ,
    url                  VARCHAR,
    components           VARCHAR,
    topics               VARCHAR,
    attachment_count     INTEGER,
    image_count          INTEGER,
    sanctuary_related    BOOLEAN,
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

-- Issuing components (offices) of each release.
CREATE TABLE IF NOT EXISTS us_doj_release_components_versions (
    uuid                 VARCHAR NOT NULL,
    component_uuid       VARCHAR NOT NULL,
    name                 VARCHAR,
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

-- Topics of each release.
CREATE TABLE IF NOT EXISTS us_doj_release_topics_versions (
    uuid                 VARCHAR NOT NULL,
    topic_uuid           VARCHAR NOT NULL,
    name                 VARCHAR,
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

-- Relevance tags of releases, with the reason (doc_id = release uuid).
CREATE TABLE IF NOT EXISTS us_doj_release_tags_versions (
    doc_id               VARCHAR NOT NULL,
    tag                  VARCHAR NOT NULL,
    matches              INTEGER,
    reason               VARCHAR,
    first_context        VARCHAR,
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

-- Jurisdictions named in releases, with the sentence or list item (and its list's lead line).
CREATE TABLE IF NOT EXISTS us_doj_release_jurisdictions_versions (
    doc_id               VARCHAR NOT NULL,
    ordinal              INTEGER NOT NULL,
    jurisdiction_id      VARCHAR NOT NULL,
    matched              VARCHAR,
    context              VARCHAR,
    context_kind         VARCHAR,
    list_lead            VARCHAR,
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

-- Numbers stated in releases, with unit, hedge and sentence.
CREATE TABLE IF NOT EXISTS us_doj_release_numbers_versions (
    doc_id               VARCHAR NOT NULL,
    ordinal              INTEGER NOT NULL,
    stated               VARCHAR NOT NULL,
    value                DOUBLE,
    unit                 VARCHAR,
    hedge                VARCHAR,
    date_value           DATE,
    context              VARCHAR,
    context_kind         VARCHAR,
    list_lead            VARCHAR,
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

-- One row per speech page; release_date from the date element, never the 'Updated ...' line.
CREATE TABLE IF NOT EXISTS us_doj_speeches_versions (
    url                  VARCHAR NOT NULL,
    layout               VARCHAR,
    title                VARCHAR,
    release_date         DATE,
    updated_date         DATE,
    location             VARCHAR,
    as_prepared          BOOLEAN,
    office               VARCHAR,
    components           VARCHAR,
    topics               VARCHAR,
    release_number       VARCHAR,
    body_text            VARCHAR,
    sanctuary_related    BOOLEAN,
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

-- Relevance tags of speeches (doc_id = speech url).
CREATE TABLE IF NOT EXISTS us_doj_speech_tags_versions (
    doc_id               VARCHAR NOT NULL,
    tag                  VARCHAR NOT NULL,
    matches              INTEGER,
    reason               VARCHAR,
    first_context        VARCHAR,
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

-- Jurisdictions named in speeches.
CREATE TABLE IF NOT EXISTS us_doj_speech_jurisdictions_versions (
    doc_id               VARCHAR NOT NULL,
    ordinal              INTEGER NOT NULL,
    jurisdiction_id      VARCHAR NOT NULL,
    matched              VARCHAR,
    context              VARCHAR,
    context_kind         VARCHAR,
    list_lead            VARCHAR,
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

-- Numbers stated in speeches.
CREATE TABLE IF NOT EXISTS us_doj_speech_numbers_versions (
    doc_id               VARCHAR NOT NULL,
    ordinal              INTEGER NOT NULL,
    stated               VARCHAR NOT NULL,
    value                DOUBLE,
    unit                 VARCHAR,
    hedge                VARCHAR,
    date_value           DATE,
    context              VARCHAR,
    context_kind         VARCHAR,
    list_lead            VARCHAR,
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
