-- The jurisdiction model: which place, county, state or police agency a name means.
-- Reference data maintained by hand (not versioned facts); sources are named per row.
-- "Miami-Dade" alone is ambiguous: the county (about 2.7 million people, some 35-40 police
-- agencies), the Miami-Dade Police Department (unincorporated areas plus contract cities,
-- about 1.2 million; the Miami-Dade Sheriff's Office since 2025) or, loosely, the City of Miami.
-- sanctuarywatch.query.jurisdictions.resolve() returns every candidate and never guesses.

CREATE TABLE IF NOT EXISTS jurisdictions (
    jurisdiction_id  VARCHAR PRIMARY KEY,   -- kind:code, e.g. county:12086, agency:FL0130000
    kind             VARCHAR NOT NULL,      -- state | county | place | agency
    name             VARCHAR NOT NULL,
    state_abbr       VARCHAR,
    geo_id           VARCHAR,               -- Census GEO_ID (joins us_census_population)
    ori              VARCHAR,               -- FBI ORI (joins us_fbi_cde_*)
    parent_id        VARCHAR,               -- the state a county or place lies in
    note             VARCHAR
);

CREATE TABLE IF NOT EXISTS jurisdiction_aliases (
    alias            VARCHAR NOT NULL,      -- matched case-insensitively
    jurisdiction_id  VARCHAR NOT NULL,
    valid_from       DATE,                  -- the name was in use from (NULL: always)
    valid_to         DATE,                  -- ... until, exclusive (NULL: still)
    note             VARCHAR
);

-- Which agency serves which area; population_served per year where a source gives it
-- (CDE figures load into us_fbi_cde_agency_monthly; see agency_population_by_year).
CREATE TABLE IF NOT EXISTS jurisdiction_relations (
    subject_id         VARCHAR NOT NULL,
    relation           VARCHAR NOT NULL,    -- serves | serves_part | within | within_mostly
    object_id          VARCHAR NOT NULL,
    year               INTEGER,
    population_served  BIGINT,
    approximate        BOOLEAN DEFAULT false,
    source             VARCHAR,
    note               VARCHAR
);

-- Dated policy events, for before/after windows in the claims.
CREATE TABLE IF NOT EXISTS policy_events (
    event_id         VARCHAR PRIMARY KEY,
    jurisdiction_id  VARCHAR NOT NULL,
    event_date       DATE NOT NULL,         -- first day of the period when precision > day
    date_precision   VARCHAR NOT NULL,      -- day | month | year
    kind             VARCHAR NOT NULL,
    summary          VARCHAR NOT NULL,
    source_url       VARCHAR,
    source_name      VARCHAR,
    note             VARCHAR
);

INSERT INTO jurisdictions VALUES
    ('state:IL', 'state', 'Illinois', 'IL', '0400000US17', NULL, NULL, NULL),
    ('state:FL', 'state', 'Florida', 'FL', '0400000US12', NULL, NULL, NULL),
    ('state:NV', 'state', 'Nevada', 'NV', '0400000US32', NULL, NULL, NULL),
    ('county:17031', 'county', 'Cook County, Illinois', 'IL', '0500000US17031', NULL, 'state:IL',
     'no real Census row in the bundled extracts'),
    ('county:12086', 'county', 'Miami-Dade County, Florida', 'FL', '0500000US12086', NULL,
     'state:FL', 'about 2.7 million people served by some 35-40 police agencies'),
    ('county:32003', 'county', 'Clark County, Nevada', 'NV', '0500000US32003', NULL, 'state:NV',
     NULL),
    ('place:1714000', 'place', 'Chicago city, Illinois', 'IL', '1600000US1714000', NULL,
     'state:IL', NULL),
    ('place:1245000', 'place', 'Miami city, Florida', 'FL', '1600000US1245000', NULL,
     'state:FL', NULL),
    ('agency:ILCPD0000', 'agency', 'Chicago Police Department', 'IL', NULL, 'ILCPD0000',
     'state:IL', NULL),
    ('agency:IL0160000', 'agency', 'Cook County Sheriff''s Office', 'IL', NULL, 'IL0160000',
     'state:IL', NULL),
    ('agency:FL0130000', 'agency', 'Miami-Dade Police Department', 'FL', NULL, 'FL0130000',
     'state:FL', 'CDE type County; renamed Miami-Dade Sheriff''s Office in 2025; NIBRS since 2022'),
    ('agency:FL0130600', 'agency', 'Miami Police Department', 'FL', NULL, 'FL0130600',
     'state:FL', 'the City of Miami''s own police'),
    ('agency:FL0130700', 'agency', 'Miami Beach Police Department', 'FL', NULL, 'FL0130700',
     'state:FL', NULL);

INSERT INTO jurisdiction_aliases VALUES
    ('Chicago', 'place:1714000', NULL, NULL, NULL),
    ('City of Chicago', 'place:1714000', NULL, NULL, NULL),
    ('Chicago Police Department', 'agency:ILCPD0000', NULL, NULL, NULL),
    ('CPD', 'agency:ILCPD0000', NULL, NULL, NULL),
    ('Cook County', 'county:17031', NULL, NULL, NULL),
    ('Cook County Sheriff', 'agency:IL0160000', NULL, NULL, NULL),
    ('Miami-Dade', 'county:12086', NULL, NULL, 'the county and all its agencies'),
    ('Miami-Dade', 'agency:FL0130000', NULL, NULL, 'the county police department only'),
    ('Miami-Dade', 'place:1245000', NULL, NULL, 'loosely, the City of Miami (2017 press usage)'),
    ('Miami-Dade County', 'county:12086', NULL, NULL, NULL),
    ('Miami', 'place:1245000', NULL, NULL, NULL),
    ('Miami', 'county:12086', NULL, NULL, 'Washington Times 2017-08-16: "Miami is cooperating"'),
    ('City of Miami', 'place:1245000', NULL, NULL, NULL),
    ('Miami-Dade Police Department', 'agency:FL0130000', NULL, DATE '2025-01-01',
     'renamed in 2025 (exact day not in the project''s sources)'),
    ('MDPD', 'agency:FL0130000', NULL, DATE '2025-01-01', NULL),
    ('Miami-Dade Sheriff''s Office', 'agency:FL0130000', DATE '2025-01-01', NULL, NULL),
    ('MDSO', 'agency:FL0130000', DATE '2025-01-01', NULL, NULL),
    ('Miami Police Department', 'agency:FL0130600', NULL, NULL, NULL),
    ('City of Miami Police Department', 'agency:FL0130600', NULL, NULL, NULL),
    ('Miami Beach Police Department', 'agency:FL0130700', NULL, NULL, NULL),
    ('Clark County', 'county:32003', NULL, NULL, NULL);

INSERT INTO jurisdiction_relations VALUES
    ('agency:ILCPD0000', 'serves', 'place:1714000', NULL, NULL, false, NULL, NULL),
    ('agency:FL0130600', 'serves', 'place:1245000', NULL, NULL, false, NULL, NULL),
    ('agency:FL0130000', 'serves_part', 'county:12086', NULL, NULL, false, NULL,
     'unincorporated Miami-Dade plus the cities that contract with the county'),
    ('agency:FL0130000', 'serves_part', 'county:12086', 2024, 1210000, true,
     'FBI Crime Data Explorer agency page (SOURCES.md, "about 1.21 million served in 2024")',
     'rounded; the exact figure loads with us_fbi_cde_agency_monthly'),
    ('agency:IL0160000', 'serves_part', 'county:17031', NULL, NULL, false, NULL, NULL),
    ('place:1714000', 'within_mostly', 'county:17031', NULL, NULL, false, NULL,
     'a small part of Chicago lies in DuPage County'),
    ('place:1245000', 'within', 'county:12086', NULL, NULL, false, NULL, NULL),
    ('county:17031', 'within', 'state:IL', NULL, NULL, false, NULL, NULL),
    ('county:12086', 'within', 'state:FL', NULL, NULL, false, NULL, NULL),
    ('county:32003', 'within', 'state:NV', NULL, NULL, false, NULL, NULL);

INSERT INTO policy_events VALUES
    ('miami-dade-detainer-policy-2013', 'county:12086', DATE '2013-01-01', 'year',
     'detainer_policy',
     'County jails refuse ICE detainer requests unless the federal government commits to pay the jail costs',
     'http://www.sun-sentinel.com/news/politics/ct-sessions-sanctuary-cities-chicago-20170816-story.html',
     'AP, 2017-08-16', 'month and day not in the project''s sources'),
    ('miami-dade-detainer-reversal-2017-02', 'county:12086', DATE '2017-02-01', 'month',
     'detainer_policy_reversal',
     'Mayor Gimenez reverses the 2013 policy: county jails honor ICE detainer requests',
     'http://www.sun-sentinel.com/news/politics/ct-sessions-sanctuary-cities-chicago-20170816-story.html',
     'AP, 2017-08-16; Daily Caller, 2017-08-16 ("reversed ... in February")',
     'the day is not in the project''s sources'),
    ('doj-1373-letter-miami-dade-2017-08-04', 'county:12086', DATE '2017-08-04', 'day',
     'doj_1373_no_evidence',
     'DOJ letter: no evidence Miami-Dade County is out of compliance with 8 U.S.C. 1373; eligible for FY2016 Byrne JAG ($481,347)',
     'https://thenewamerican.com/us/immigration/miami-dade-ends-sanctuary-city-policies-and-gains-federal-funding/',
     'Mayor Gimenez''s letter of 2017-08-05 quoted by The New American; Washington Times 2017-08-07',
     NULL),
    ('doj-1373-letter-clark-2017-08-04', 'county:32003', DATE '2017-08-04', 'day',
     'doj_1373_no_evidence',
     'DOJ letter: no evidence Clark County is out of compliance with 8 U.S.C. 1373',
     'https://www.washingtontimes.com/news/2017/aug/7/two-sanctuary-counties-prove-1373-compliance-clear/',
     'Washington Times, 2017-08-07', 'date as for the Miami-Dade letter, sent together'),
    ('doj-1373-findings-2017-10-12-chicago', 'place:1714000', DATE '2017-10-12', 'day',
     'doj_1373_possible_violation',
     'DOJ preliminary finding: laws, policies or practices that may violate 8 U.S.C. 1373',
     'https://www.justice.gov/opa/pr/justice-department-provides-last-chance-cities-show-1373-compliance',
     'DOJ press release, 2017-10-12 (lists via Reveal, 2017-10-12)', NULL),
    ('doj-1373-findings-2017-10-12-cook', 'county:17031', DATE '2017-10-12', 'day',
     'doj_1373_possible_violation',
     'DOJ preliminary finding: laws, policies or practices that may violate 8 U.S.C. 1373',
     'https://www.justice.gov/opa/pr/justice-department-provides-last-chance-cities-show-1373-compliance',
     'DOJ press release, 2017-10-12 (lists via Reveal, 2017-10-12)', NULL),
    ('doj-1373-findings-2017-10-12-miami-dade', 'county:12086', DATE '2017-10-12', 'day',
     'doj_1373_previously_cleared',
     'DOJ release lists Miami-Dade County among jurisdictions previously found in compliance',
     'https://www.justice.gov/opa/pr/justice-department-provides-last-chance-cities-show-1373-compliance',
     'DOJ press release, 2017-10-12 (lists via Reveal, 2017-10-12)', NULL);
