-- Query helpers shared by Python (sanctuarywatch.helpers) and SQL users: one meaning.
-- Every macro takes `as_of` (a timestamp): the data as it was observed then. Pass
-- 'infinity' for the current data. Windows are [start_local, end_local) in the
-- jurisdiction's own local time (Chicago: America/Chicago wall-clock time).
--
-- Offenses (project vocabulary):
--   murder            Chicago IUCR 0110 (first-degree murder)
--   homicide          every homicide IUCR (murder + second-degree, manslaughter, reckless)
--   shooting_victim   people shot, fatally or not (gumc-mgzr gunshot_injury_i = 'Y')
--   shooting_homicide homicide victims killed by gunfire (gumc-mgzr)
--   violent_crime     FBI CDE series "V" (monthly only)
-- FBI CDE "HOM" is murder and non-negligent manslaughter; it is mapped to `homicide`.

CREATE OR REPLACE MACRO incident_events(as_of) AS TABLE
SELECT 'agency:ILCPD0000' AS jurisdiction_id, o.offense, c.occurred_local, c.arrest,
       'il_chicago_crimes' AS source, c.raw_sha256, c.year
FROM il_chicago_crimes_as_of(as_of) c
JOIN (VALUES ('murder', 'murder'), ('murder', 'homicide'), ('homicide_other', 'homicide'))
     AS o(offense_class, offense) ON c.offense_class = o.offense_class
UNION ALL
SELECT 'agency:ILCPD0000', o.offense, v.occurred_local, NULL,
       'il_chicago_violence_victims', v.raw_sha256, year(v.occurred_local)
FROM il_chicago_violence_victims_as_of(as_of) v
JOIN (VALUES ('shooting_victim'), ('shooting_homicide')) AS o(offense)
  ON v.gunshot_injury AND (o.offense = 'shooting_victim' OR v.is_homicide);

-- Count of incident-level events in a window, with the raw responses behind it.
--   SELECT * FROM incident_count('agency:ILCPD0000', 'murder', '2017-01-01', '2017-08-17', 'infinity');
CREATE OR REPLACE MACRO incident_count(jur, off, start_local, end_local, as_of) AS TABLE
SELECT count(*) AS n,
       count(*) FILTER (WHERE arrest) AS with_arrest,
       list(DISTINCT source) AS sources,
       list(DISTINCT raw_sha256) AS raw_sha256s
FROM incident_events(as_of)
WHERE jurisdiction_id = jur AND offense = off
  AND occurred_local >= CAST(start_local AS TIMESTAMP)
  AND occurred_local < CAST(end_local AS TIMESTAMP);

CREATE OR REPLACE MACRO cde_offense_code(off) AS
    CASE off WHEN 'homicide' THEN 'HOM' WHEN 'violent_crime' THEN 'V' END;

-- Monthly CDE offenses over whole months [start_month, end_month); NULL total unless every
-- month has data (a missing month is never read as zero).
CREATE OR REPLACE MACRO monthly_count(jur, off, start_month, end_month, as_of) AS TABLE
SELECT count(*) AS months, count(actual) AS months_with_data,
       CASE WHEN count(*) = count(actual) AND count(*) > 0 THEN sum(actual) END AS n,
       list(DISTINCT raw_sha256) AS raw_sha256s, max(last_refresh_date) AS last_refresh_date
FROM us_fbi_cde_agency_monthly_as_of(as_of)
WHERE 'agency:' || ori = jur AND offense = cde_offense_code(off) AND series = 'offenses'
  AND month >= CAST(start_month AS DATE) AND month < CAST(end_month AS DATE);

-- Which population a jurisdiction has in a year: Census estimates for places and counties
-- (newest vintage unless one is asked for), the CDE's population served for agencies.
CREATE OR REPLACE MACRO population_of(jur, yr, as_of) AS TABLE
SELECT 'census' AS kind, p.population, p.vintage, p.name, p.raw_sha256
FROM jurisdictions j
JOIN us_census_population_as_of(as_of) p ON p.geo_id = j.geo_id
WHERE j.jurisdiction_id = jur AND p.year = yr AND p.measure = 'estimate'
UNION ALL
SELECT 'agency_served', max(m.population), NULL, any_value(m.agency_name), any_value(m.raw_sha256)
FROM jurisdictions j
JOIN us_fbi_cde_agency_monthly_as_of(as_of) m ON m.ori = j.ori
WHERE j.jurisdiction_id = jur AND year(m.month) = yr AND m.population IS NOT NULL
HAVING count(*) > 0;

-- Homicide clearance by the portal's arrest flag: the arrest status when fetched, NOT the
-- share cleared in the same year (CPD's published clearance rate).
CREATE OR REPLACE MACRO arrest_flag_share(jur, yr, as_of) AS TABLE
SELECT count(*) AS victims, count(*) FILTER (WHERE arrest) AS with_arrest,
       round(100.0 * count(*) FILTER (WHERE arrest) / nullif(count(*), 0), 1) AS percent
FROM incident_events(as_of)
WHERE jurisdiction_id = jur AND offense = 'homicide' AND year = yr;

-- Every source's "complete through" date: newest event time the source is known to cover.
CREATE OR REPLACE VIEW source_completeness AS
SELECT source, complete_through, updated_at FROM source_state;
