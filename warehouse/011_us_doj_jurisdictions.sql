-- Jurisdictions the DOJ tagger matches (the same rows as sanctuarywatch.sources.platforms.justice_gov.tags.JURISDICTIONS;
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
