-- The jurisdiction registry: one id per jurisdiction, kind:code (state:IL, county:17031,
-- place:1714000, agency:ILCPD0000; Census FIPS codes, FBI ORIs), for the query helpers, the
-- claims and the DOJ tagger alike. This file is the one list: the warehouse applies it on
-- every migrate, and sanctuarywatch.registry reads the same file for the DOJ tagger, so
-- neither keeps a copy. Add or rename a jurisdiction here; a changed id is also a numbered
-- file that rewrites the ids already stored (060 did it for the DOJ tagger's old ids).
--
-- "Miami-Dade" alone is ambiguous: the county (about 2.7 million people, some 35-40 police
-- agencies), the Miami-Dade Police Department (unincorporated areas plus contract cities,
-- about 1.2 million; the Miami-Dade Sheriff's Office since 2025) or, loosely, the City of
-- Miami. sanctuarywatch.query.jurisdictions.resolve() returns every candidate, never guessing.
-- Reference data maintained by hand; who serves what, with sources, is jurisdiction_relations
-- (023), dated policy events policy_events (023).

-- doj_name: how DOJ documents name it (shown in us_doj_sanctuary_mentions); NULL: the DOJ
-- tagger does not look for it.
CREATE OR REPLACE VIEW jurisdictions AS
SELECT CAST(jurisdiction_id AS VARCHAR) AS jurisdiction_id,
       CAST(kind AS VARCHAR) AS kind,            -- state | county | place | agency
       CAST(name AS VARCHAR) AS name,
       CAST(state_abbr AS VARCHAR) AS state_abbr,
       CAST(geo_id AS VARCHAR) AS geo_id,        -- Census GEO_ID (joins us_census_population)
       CAST(ori AS VARCHAR) AS ori,              -- FBI ORI (joins us_fbi_cde_*, us_ucr_*)
       CAST(parent_id AS VARCHAR) AS parent_id,  -- the state a county or place lies in
       CAST(note AS VARCHAR) AS note,
       CAST(doj_name AS VARCHAR) AS doj_name
FROM (VALUES
    ('state:CA', 'state', 'California', 'CA', '0400000US06', NULL, NULL, NULL, 'State of California'),
    ('state:CO', 'state', 'Colorado', 'CO', '0400000US08', NULL, NULL, NULL, NULL),
    ('state:CT', 'state', 'Connecticut', 'CT', '0400000US09', NULL, NULL, NULL, 'State of Connecticut'),
    ('state:FL', 'state', 'Florida', 'FL', '0400000US12', NULL, NULL, NULL, 'State of Florida'),
    ('state:IL', 'state', 'Illinois', 'IL', '0400000US17', NULL, NULL, NULL, 'State of Illinois'),
    ('state:LA', 'state', 'Louisiana', 'LA', '0400000US22', NULL, NULL, NULL, NULL),
    ('state:MD', 'state', 'Maryland', 'MD', '0400000US24', NULL, NULL, NULL, NULL),
    ('state:MI', 'state', 'Michigan', 'MI', '0400000US26', NULL, NULL, NULL, NULL),
    ('state:NM', 'state', 'New Mexico', 'NM', '0400000US35', NULL, NULL, NULL, NULL),
    ('state:NV', 'state', 'Nevada', 'NV', '0400000US32', NULL, NULL, NULL, 'State of Nevada'),
    ('state:NY', 'state', 'New York', 'NY', '0400000US36', NULL, NULL, NULL, 'State of New York'),
    ('state:OR', 'state', 'Oregon', 'OR', '0400000US41', NULL, NULL, NULL, 'State of Oregon'),
    ('state:PA', 'state', 'Pennsylvania', 'PA', '0400000US42', NULL, NULL, NULL, NULL),
    ('state:VT', 'state', 'Vermont', 'VT', '0400000US50', NULL, NULL, NULL, 'State of Vermont'),
    ('state:WA', 'state', 'Washington', 'WA', '0400000US53', NULL, NULL, NULL, NULL),
    ('state:WI', 'state', 'Wisconsin', 'WI', '0400000US55', NULL, NULL, NULL, 'State of Wisconsin'),
    ('county:17031', 'county', 'Cook County, Illinois', 'IL', '0500000US17031', NULL, 'state:IL',
     'no real Census row in the bundled extracts', 'Cook County'),
    ('county:12086', 'county', 'Miami-Dade County, Florida', 'FL', '0500000US12086', NULL,
     'state:FL', 'about 2.7 million people served by some 35-40 police agencies',
     'Miami-Dade County'),
    ('county:32003', 'county', 'Clark County, Nevada', 'NV', '0500000US32003', NULL, 'state:NV',
     NULL, 'Clark County'),
    ('county:55079', 'county', 'Milwaukee County, Wisconsin', 'WI', '0500000US55079', NULL,
     'state:WI', NULL, 'Milwaukee County'),
    ('county:35001', 'county', 'Bernalillo County, New Mexico', 'NM', '0500000US35001', NULL,
     'state:NM', NULL, 'Bernalillo County'),
    ('county:36119', 'county', 'Westchester County, New York', 'NY', '0500000US36119', NULL,
     'state:NY', NULL, 'Westchester County'),
    ('county:06075', 'county', 'San Francisco County, California', 'CA', '0500000US06075', NULL,
     'state:CA', 'a consolidated city and county', 'City and County of San Francisco'),
    ('county:08031', 'county', 'Denver County, Colorado', 'CO', '0500000US08031', NULL,
     'state:CO', 'a consolidated city and county', 'City and County of Denver'),
    ('place:1714000', 'place', 'Chicago city, Illinois', 'IL', '1600000US1714000', NULL,
     'state:IL', NULL, 'Chicago'),
    ('place:1245000', 'place', 'Miami city, Florida', 'FL', '1600000US1245000', NULL,
     'state:FL', NULL, 'Miami'),
    ('place:2255000', 'place', 'New Orleans city, Louisiana', 'LA', '1600000US2255000', NULL,
     'state:LA', NULL, 'New Orleans'),
    ('place:3651000', 'place', 'New York city, New York', 'NY', '1600000US3651000', NULL,
     'state:NY', NULL, 'New York City'),
    ('place:4260000', 'place', 'Philadelphia city, Pennsylvania', 'PA', '1600000US4260000', NULL,
     'state:PA', NULL, 'Philadelphia'),
    ('place:2404000', 'place', 'Baltimore city, Maryland', 'MD', '1600000US2404000', NULL,
     'state:MD', NULL, 'Baltimore'),
    ('place:3502000', 'place', 'Albuquerque city, New Mexico', 'NM', '1600000US3502000', NULL,
     'state:NM', NULL, 'Albuquerque'),
    ('place:0675000', 'place', 'Stockton city, California', 'CA', '1600000US0675000', NULL,
     'state:CA', NULL, 'Stockton'),
    ('place:0665000', 'place', 'San Bernardino city, California', 'CA', '1600000US0665000', NULL,
     'state:CA', NULL, 'San Bernardino'),
    ('place:0644000', 'place', 'Los Angeles city, California', 'CA', '1600000US0644000', NULL,
     'state:CA', NULL, 'Los Angeles'),
    ('place:2646000', 'place', 'Lansing city, Michigan', 'MI', '1600000US2646000', NULL,
     'state:MI', NULL, 'Lansing'),
    ('place:5363000', 'place', 'Seattle city, Washington', 'WA', '1600000US5363000', NULL,
     'state:WA', NULL, 'Seattle'),
    ('agency:ILCPD0000', 'agency', 'Chicago Police Department', 'IL', NULL, 'ILCPD0000',
     'state:IL', NULL, NULL),
    ('agency:IL0160000', 'agency', 'Cook County Sheriff''s Office', 'IL', NULL, 'IL0160000',
     'state:IL', NULL, NULL),
    ('agency:FL0130000', 'agency', 'Miami-Dade Police Department', 'FL', NULL, 'FL0130000',
     'state:FL', 'CDE type County; renamed Miami-Dade Sheriff''s Office in 2025; NIBRS since 2022',
     NULL),
    ('agency:FL0130600', 'agency', 'Miami Police Department', 'FL', NULL, 'FL0130600',
     'state:FL', 'the City of Miami''s own police', NULL),
    ('agency:FL0130700', 'agency', 'Miami Beach Police Department', 'FL', NULL, 'FL0130700',
     'state:FL', NULL, NULL)
) AS j(jurisdiction_id, kind, name, state_abbr, geo_id, ori, parent_id, note, doj_name);

-- Names in use, with the dates they were in use; `resolve` matches them case-insensitively
-- and returns every jurisdiction a name can mean. doj: the DOJ tagger looks for this exact
-- spelling (case-sensitive, longest first) and it means this one jurisdiction; the words
-- around a match can still veto it (see sanctuarywatch.sources.platforms.justice_gov.tags):
-- a bare 'New York' is the city only where the text makes it the city.
CREATE OR REPLACE VIEW jurisdiction_aliases AS
SELECT CAST(alias AS VARCHAR) AS alias,
       CAST(jurisdiction_id AS VARCHAR) AS jurisdiction_id,
       CAST(valid_from AS DATE) AS valid_from,   -- the name was in use from (NULL: always)
       CAST(valid_to AS DATE) AS valid_to,       -- ... until, exclusive (NULL: still)
       CAST(note AS VARCHAR) AS note,
       CAST(doj AS BOOLEAN) AS doj
FROM (VALUES
    ('State of California', 'state:CA', NULL, NULL, NULL, true),
    ('state of California', 'state:CA', NULL, NULL, NULL, true),
    ('California', 'state:CA', NULL, NULL, NULL, true),
    ('State of Connecticut', 'state:CT', NULL, NULL, NULL, true),
    ('state of Connecticut', 'state:CT', NULL, NULL, NULL, true),
    ('Connecticut', 'state:CT', NULL, NULL, NULL, true),
    ('State of Florida', 'state:FL', NULL, NULL, NULL, true),
    ('Florida', 'state:FL', NULL, NULL, NULL, true),
    ('State of Illinois', 'state:IL', NULL, NULL, NULL, true),
    ('state of Illinois', 'state:IL', NULL, NULL, NULL, true),
    ('Illinois', 'state:IL', NULL, NULL, NULL, true),
    ('State of Nevada', 'state:NV', NULL, NULL, NULL, true),
    ('Nevada', 'state:NV', NULL, NULL, NULL, true),
    ('State of New York', 'state:NY', NULL, NULL, NULL, true),
    ('New York State', 'state:NY', NULL, NULL, NULL, true),
    ('state of New York', 'state:NY', NULL, NULL, NULL, true),
    ('State of Oregon', 'state:OR', NULL, NULL, NULL, true),
    ('state of Oregon', 'state:OR', NULL, NULL, NULL, true),
    ('Oregon', 'state:OR', NULL, NULL, NULL, true),
    ('State of Vermont', 'state:VT', NULL, NULL, NULL, true),
    ('state of Vermont', 'state:VT', NULL, NULL, NULL, true),
    ('Vermont', 'state:VT', NULL, NULL, NULL, true),
    ('State of Wisconsin', 'state:WI', NULL, NULL, NULL, true),
    ('Wisconsin', 'state:WI', NULL, NULL, NULL, true),
    ('Cook County', 'county:17031', NULL, NULL, NULL, true),
    ('Cook County Sheriff', 'agency:IL0160000', NULL, NULL, NULL, false),
    ('Miami-Dade', 'county:12086', NULL, NULL, 'the county and all its agencies', true),
    ('Miami-Dade', 'agency:FL0130000', NULL, NULL, 'the county police department only', false),
    ('Miami-Dade', 'place:1245000', NULL, NULL, 'loosely, the City of Miami (2017 press usage)',
     false),
    ('Miami-Dade County', 'county:12086', NULL, NULL, NULL, true),
    ('Clark County', 'county:32003', NULL, NULL, NULL, true),
    ('Milwaukee County', 'county:55079', NULL, NULL, NULL, true),
    ('Bernalillo County', 'county:35001', NULL, NULL, NULL, true),
    ('Westchester County', 'county:36119', NULL, NULL, NULL, true),
    ('City and County of San Francisco', 'county:06075', NULL, NULL, NULL, true),
    ('San Francisco', 'county:06075', NULL, NULL, NULL, true),
    ('City and County of Denver', 'county:08031', NULL, NULL, NULL, true),
    ('Denver', 'county:08031', NULL, NULL, NULL, true),
    ('Chicago', 'place:1714000', NULL, NULL, NULL, true),
    ('City of Chicago', 'place:1714000', NULL, NULL, NULL, true),
    ('Miami', 'place:1245000', NULL, NULL, NULL, true),
    ('Miami', 'county:12086', NULL, NULL, 'Washington Times 2017-08-16: "Miami is cooperating"',
     false),
    ('City of Miami', 'place:1245000', NULL, NULL, NULL, true),
    ('New Orleans', 'place:2255000', NULL, NULL, NULL, true),
    ('City of New Orleans', 'place:2255000', NULL, NULL, NULL, true),
    ('New York City', 'place:3651000', NULL, NULL, NULL, true),
    ('City of New York', 'place:3651000', NULL, NULL, NULL, true),
    ('New York', 'place:3651000', NULL, NULL, 'the city only where the text makes it the city',
     true),
    ('Philadelphia', 'place:4260000', NULL, NULL, NULL, true),
    ('City of Philadelphia', 'place:4260000', NULL, NULL, NULL, true),
    ('Baltimore', 'place:2404000', NULL, NULL, NULL, true),
    ('Albuquerque', 'place:3502000', NULL, NULL, NULL, true),
    ('Stockton', 'place:0675000', NULL, NULL, NULL, true),
    ('San Bernardino', 'place:0665000', NULL, NULL, NULL, true),
    ('Los Angeles', 'place:0644000', NULL, NULL, NULL, true),
    ('City of Los Angeles', 'place:0644000', NULL, NULL, NULL, true),
    ('Lansing', 'place:2646000', NULL, NULL, NULL, true),
    ('Seattle', 'place:5363000', NULL, NULL, NULL, true),
    ('Chicago Police Department', 'agency:ILCPD0000', NULL, NULL, NULL, false),
    ('CPD', 'agency:ILCPD0000', NULL, NULL, NULL, false),
    ('Miami-Dade Police Department', 'agency:FL0130000', NULL, DATE '2025-01-01',
     'renamed in 2025 (exact day not in the project''s sources)', false),
    ('MDPD', 'agency:FL0130000', NULL, DATE '2025-01-01', NULL, false),
    ('Miami-Dade Sheriff''s Office', 'agency:FL0130000', DATE '2025-01-01', NULL, NULL, false),
    ('MDSO', 'agency:FL0130000', DATE '2025-01-01', NULL, NULL, false),
    ('Miami Police Department', 'agency:FL0130600', NULL, NULL, NULL, false),
    ('City of Miami Police Department', 'agency:FL0130600', NULL, NULL, NULL, false),
    ('Miami Beach Police Department', 'agency:FL0130700', NULL, NULL, NULL, false)
) AS a(alias, jurisdiction_id, valid_from, valid_to, note, doj);

-- The jurisdictions the DOJ tagger looks for, with the spellings it matches ('; '-joined,
-- longest first): what `us_doj_*_jurisdictions` ids and us_doj_sanctuary_mentions name.
CREATE OR REPLACE VIEW us_doj_jurisdictions AS
SELECT j.jurisdiction_id, j.doj_name AS name, j.kind, j.state_abbr AS state,
       string_agg(a.alias, '; ' ORDER BY length(a.alias) DESC, a.alias) AS aliases
FROM jurisdictions j JOIN jurisdiction_aliases a ON a.jurisdiction_id = j.jurisdiction_id AND a.doj
WHERE j.doj_name IS NOT NULL
GROUP BY ALL;

-- Whose events an incident-level source holds: the Chicago portal's are the Chicago Police
-- Department's, so incident_events (20_incidents.sql) counts them for agency:ILCPD0000.
CREATE OR REPLACE VIEW source_jurisdictions AS
SELECT CAST(source AS VARCHAR) AS source, CAST(jurisdiction_id AS VARCHAR) AS jurisdiction_id
FROM (VALUES
    ('il_chicago_crimes', 'agency:ILCPD0000'),
    ('il_chicago_violence_victims', 'agency:ILCPD0000')
) AS s(source, jurisdiction_id);
