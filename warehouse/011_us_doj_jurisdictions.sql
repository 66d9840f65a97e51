-- Jurisdictions the DOJ tagger matches (the same rows as sanctuarywatch.doj_tags.JURISDICTIONS;
-- tests/test_doj_tags.py fails when the two differ). A reference table, not versioned: a change is
-- a new numbered file. Aliases are '; '-separated and matched case-sensitively, longest first;
-- the words around a match can veto it (see doj_tags): bare 'New York' is the city only where
-- the text makes it the city, as in the 2017 DOJ lists of cities.

CREATE TABLE IF NOT EXISTS us_doj_jurisdictions (
    jurisdiction_id VARCHAR PRIMARY KEY,
    name            VARCHAR NOT NULL,
    kind            VARCHAR NOT NULL,   -- state | county | city
    state           VARCHAR NOT NULL,   -- USPS code
    aliases         VARCHAR NOT NULL
);

INSERT INTO us_doj_jurisdictions VALUES
    ('ca', 'State of California', 'state', 'CA', 'State of California; state of California; California'),
    ('ct', 'State of Connecticut', 'state', 'CT', 'State of Connecticut; state of Connecticut; Connecticut'),
    ('fl', 'State of Florida', 'state', 'FL', 'State of Florida; Florida'),
    ('il', 'State of Illinois', 'state', 'IL', 'State of Illinois; state of Illinois; Illinois'),
    ('nv', 'State of Nevada', 'state', 'NV', 'State of Nevada; Nevada'),
    ('ny', 'State of New York', 'state', 'NY', 'State of New York; New York State; state of New York'),
    ('or', 'State of Oregon', 'state', 'OR', 'State of Oregon; state of Oregon; Oregon'),
    ('vt', 'State of Vermont', 'state', 'VT', 'State of Vermont; state of Vermont; Vermont'),
    ('wi', 'State of Wisconsin', 'state', 'WI', 'State of Wisconsin; Wisconsin'),
    ('il-cook-county', 'Cook County', 'county', 'IL', 'Cook County'),
    ('fl-miami-dade-county', 'Miami-Dade County', 'county', 'FL', 'Miami-Dade County; Miami-Dade'),
    ('nv-clark-county', 'Clark County', 'county', 'NV', 'Clark County'),
    ('wi-milwaukee-county', 'Milwaukee County', 'county', 'WI', 'Milwaukee County'),
    ('nm-bernalillo-county', 'Bernalillo County', 'county', 'NM', 'Bernalillo County'),
    ('ny-westchester-county', 'Westchester County', 'county', 'NY', 'Westchester County'),
    ('ca-san-francisco', 'City and County of San Francisco', 'county', 'CA', 'City and County of San Francisco; San Francisco'),
    ('co-denver', 'City and County of Denver', 'county', 'CO', 'City and County of Denver; Denver'),
    ('il-chicago', 'Chicago', 'city', 'IL', 'Chicago; City of Chicago'),
    ('la-new-orleans', 'New Orleans', 'city', 'LA', 'New Orleans; City of New Orleans'),
    ('ny-new-york-city', 'New York City', 'city', 'NY', 'New York City; City of New York; New York'),
    ('pa-philadelphia', 'Philadelphia', 'city', 'PA', 'Philadelphia; City of Philadelphia'),
    ('md-baltimore', 'Baltimore', 'city', 'MD', 'Baltimore'),
    ('nm-albuquerque', 'Albuquerque', 'city', 'NM', 'Albuquerque'),
    ('ca-stockton', 'Stockton', 'city', 'CA', 'Stockton'),
    ('ca-san-bernardino', 'San Bernardino', 'city', 'CA', 'San Bernardino'),
    ('ca-los-angeles', 'Los Angeles', 'city', 'CA', 'Los Angeles; City of Los Angeles'),
    ('fl-miami', 'Miami', 'city', 'FL', 'Miami; City of Miami'),
    ('mi-lansing', 'Lansing', 'city', 'MI', 'Lansing'),
    ('wa-seattle', 'Seattle', 'city', 'WA', 'Seattle');

-- Sanctuary-related documents (releases and speeches) and every jurisdiction each names, with
-- the sentence or list item and the list's lead line ("may violate", "no evidence", ...).
CREATE OR REPLACE VIEW us_doj_sanctuary_mentions AS
WITH docs AS (
    SELECT 'release' AS kind, uuid AS doc_id, release_date, title, url
    FROM us_doj_press_releases_versions WHERE valid_to IS NULL AND sanctuary_related
    UNION ALL
    SELECT 'speech', url, release_date, title, url
    FROM us_doj_speeches_versions WHERE valid_to IS NULL AND sanctuary_related
), mentions AS (
    SELECT doc_id, ordinal, jurisdiction_id, matched, context, context_kind, list_lead
    FROM us_doj_release_jurisdictions_versions WHERE valid_to IS NULL
    UNION ALL
    SELECT doc_id, ordinal, jurisdiction_id, matched, context, context_kind, list_lead
    FROM us_doj_speech_jurisdictions_versions WHERE valid_to IS NULL
)
SELECT d.kind, d.doc_id, d.release_date, d.title, d.url, m.ordinal, m.jurisdiction_id,
       j.name AS jurisdiction, j.kind AS jurisdiction_kind, m.matched, m.context,
       m.context_kind, m.list_lead
FROM docs d JOIN mentions m USING (doc_id) JOIN us_doj_jurisdictions j USING (jurisdiction_id);

-- A release by its number (secondary key; may match none or, for odd numbers, several).
CREATE OR REPLACE MACRO us_doj_release_by_number(n) AS TABLE
SELECT * FROM us_doj_press_releases_versions WHERE valid_to IS NULL AND release_number = n;
