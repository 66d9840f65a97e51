-- Incident-level counts (the Chicago portal): the events a count is made of, the count, the SQL
-- shortcut, and the arrest-flag share.
-- Re-applied on every migrate (warehouse.migrate): edit the definition here, once; it
-- holds no data, so it needs no numbered file.

-- incident_events (030) with one UNION ALL branch per offense instead of a join to an
-- offense table: a query for one offense folds the other branches away and pushes its
-- offense_class test into the table scan. Same rows, same columns. On an 8M-row crimes table
-- a one-year count went from ~50 to ~38 ms and a 2001-2017 count from ~110 to ~33 ms
-- (BENCHMARKS.md). Whose events they are comes from the registry (source_jurisdictions,
-- 05_jurisdictions.sql); a count for another jurisdiction reads no row of the portal's tables
-- (measured on a 5M-row synthetic table: ~3 ms, against ~0.5 ms for an id written in).
CREATE OR REPLACE MACRO incident_events(as_of) AS TABLE
SELECT j.jurisdiction_id, 'murder' AS offense, occurred_local, arrest,
       'il_chicago_crimes' AS source, raw_sha256, year
FROM il_chicago_crimes_as_of(as_of),
     (SELECT jurisdiction_id FROM source_jurisdictions WHERE source = 'il_chicago_crimes') j
WHERE offense_class = 'murder'
UNION ALL
SELECT j.jurisdiction_id, 'homicide', occurred_local, arrest,
       'il_chicago_crimes', raw_sha256, year
FROM il_chicago_crimes_as_of(as_of),
     (SELECT jurisdiction_id FROM source_jurisdictions WHERE source = 'il_chicago_crimes') j
WHERE offense_class IN ('murder', 'homicide_other')
UNION ALL
SELECT j.jurisdiction_id, 'shooting_victim', occurred_local, NULL,
       'il_chicago_violence_victims', raw_sha256, year(occurred_local)
FROM il_chicago_violence_victims_as_of(as_of),
     (SELECT jurisdiction_id FROM source_jurisdictions
      WHERE source = 'il_chicago_violence_victims') j
WHERE gunshot_injury
UNION ALL
SELECT j.jurisdiction_id, 'shooting_homicide', occurred_local, NULL,
       'il_chicago_violence_victims', raw_sha256, year(occurred_local)
FROM il_chicago_violence_victims_as_of(as_of),
     (SELECT jurisdiction_id FROM source_jurisdictions
      WHERE source = 'il_chicago_violence_victims') j
WHERE gunshot_injury AND is_homicide;

-- The events one count is made of: incident_count and chicago_homicide_victims both read
-- this, so they cannot disagree on what is counted.
--   SELECT occurred_local, raw_sha256
--   FROM incident_rows('agency:ILCPD0000', 'murder', '2017-01-01', '2017-08-17', 'infinity');
CREATE OR REPLACE MACRO incident_rows(jur, off, start_local, end_local, as_of) AS TABLE
SELECT * FROM incident_events(as_of)
WHERE jurisdiction_id = jur AND offense = off
  AND occurred_local >= CAST(start_local AS TIMESTAMP)
  AND occurred_local < CAST(end_local AS TIMESTAMP);

CREATE OR REPLACE MACRO incident_count(jur, off, start_local, end_local, as_of) AS TABLE
SELECT count(*) AS n,
       count(*) FILTER (WHERE arrest) AS with_arrest,
       list(DISTINCT source) AS sources,
       list(DISTINCT raw_sha256) AS raw_sha256s
FROM incident_rows(jur, off, start_local, end_local, as_of);

-- The SQL shortcut counts only: it does not gather the evidence lists incident_count gives.
CREATE OR REPLACE MACRO chicago_homicide_victims(start_local, end_local, which) AS (
    SELECT count(*) FROM incident_rows(
        (SELECT jurisdiction_id FROM source_jurisdictions WHERE source = 'il_chicago_crimes'),
        which, start_local, end_local, 'infinity')
);

-- Homicide clearance by the portal's arrest flag: the arrest status when fetched, NOT the
-- share cleared in the same year (CPD's published clearance rate).
CREATE OR REPLACE MACRO arrest_flag_share(jur, yr, as_of) AS TABLE
SELECT count(*) AS victims, count(*) FILTER (WHERE arrest) AS with_arrest,
       round(100.0 * count(*) FILTER (WHERE arrest) / nullif(count(*), 0), 1) AS percent
FROM incident_events(as_of)
WHERE jurisdiction_id = jur AND offense = 'homicide' AND year = yr;
