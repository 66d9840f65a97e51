-- Agencies: populations, monthly offense counts (FBI CDE and the per-agency returns) and how
-- each agency reported each year.
-- Re-applied on every migrate (warehouse.migrate): edit the definition here, once; it
-- holds no data, so it needs no numbered file.

-- Query helpers over the CDE, Census and jurisdiction tables (the Python helpers call these).

-- The population an agency served, per year, as the CDE reports it (months of one year agree).
CREATE OR REPLACE VIEW agency_population_by_year AS
SELECT ori, any_value(agency_name) AS agency_name, year(month) AS year,
       max(population) AS population, any_value(host) AS host
FROM us_fbi_cde_agency_monthly
WHERE population IS NOT NULL
GROUP BY ori, year(month);

-- One Census July 1 estimate: SELECT census_population('1600000US1714000', 2017, 2017);
CREATE OR REPLACE MACRO census_population(p_geo_id, p_year, p_vintage) AS (
    SELECT population FROM us_census_population
    WHERE geo_id = p_geo_id AND year = p_year AND vintage = p_vintage AND measure = 'estimate'
);

CREATE OR REPLACE MACRO cde_offense_code(off) AS
    CASE off WHEN 'homicide' THEN 'HOM' WHEN 'violent_crime' THEN 'V' END;

-- A CDE series summed over [p_start, p_end) months, with how many months had data, so a
-- NULL month (no data) is never read as zero: total is NULL unless every month has data.
CREATE OR REPLACE MACRO cde_monthly_total(p_ori, p_offense, p_series, p_start, p_end) AS TABLE
SELECT count(*) AS months, count(actual) AS months_with_data,
       CASE WHEN count(*) = count(actual) AND count(*) > 0 THEN sum(actual) END AS total
FROM us_fbi_cde_agency_monthly
WHERE ori = p_ori AND offense = p_offense AND series = p_series
  AND month >= CAST(p_start AS DATE) AND month < CAST(p_end AS DATE);

-- Monthly agency counts from every source through one face, each agency-year's reporting
-- pattern, and the periods a count may be summed over. The monthly helpers read only these.
--
-- Why: a month row of 0 is not always a zero. The Miami-Dade Police Department sends the FBI
-- one annual total (Jan-Nov 0, December the year); Miami PD sent half-years in 2014-2016
-- (June = Jan-Jun, December = Jul-Dec). Summing January-August of such a year says "0
-- murders". So a count is taken only over the periods the agency really reported:
--
--   pattern        agency-year reported as                  periods a count may use
--   monthly        12 months, each filed (0 is a real 0)     each month
--   half_yearly    June and December hold every count        Jan-Jun, Jul-Dec
--   annual         December holds every count                Jan-Dec
--   partial        some months filed, others not             each filed month (the rest: gaps)
--   not_reported   no month filed                            none
--
-- A month is filed when the source says a return came in (UCR: a card status; CDE: a count
-- that is not null) or when any of its counts is not 0. A year is annual (half_yearly) when
-- December (June and December) is the only month with any count that is not 0. For a very
-- small agency with real zeros this errs on the side of refusing a part-year count, never of
-- inventing one.
--
-- Offenses: the CDE's V and HOM, the UCR file's own names (warehouse/043); FBI murder (murder
-- and non-negligent manslaughter) answers both `murder` and `homicide`, from either source.

CREATE OR REPLACE MACRO agency_month_rows(as_of) AS TABLE
SELECT 'us_ucr_agency_monthly' AS source, u.ori, u.month, coalesce(a.offense, u.offense) AS offense,
       u.actual, u.agency_name, u.population, u.card_actual_type IS NOT NULL AS card_filed,
       u.raw_sha256, CAST(NULL AS DATE) AS last_refresh_date, u.offense AS source_offense
FROM us_ucr_agency_monthly_as_of(as_of) u
LEFT JOIN (VALUES ('murder', 'murder'), ('murder', 'homicide')) AS a(source_offense, offense)
  ON a.source_offense = u.offense
UNION ALL
SELECT 'us_fbi_cde_agency_monthly', c.ori, c.month, a.offense, c.actual, c.agency_name,
       c.population, c.actual IS NOT NULL, c.raw_sha256, c.last_refresh_date, c.offense
FROM us_fbi_cde_agency_monthly_as_of(as_of) c
JOIN (VALUES ('V', 'violent_crime'), ('HOM', 'homicide'), ('HOM', 'murder'))
     AS a(source_offense, offense) ON a.source_offense = c.offense
WHERE c.series = 'offenses';

CREATE OR REPLACE MACRO agency_reporting_patterns_as_of(as_of) AS TABLE
WITH months AS (
    SELECT source, ori, month, any_value(agency_name) AS agency_name,
           max(population) AS population,
           bool_or(card_filed OR coalesce(actual, 0) <> 0) AS filed,
           bool_or(coalesce(actual, 0) <> 0) AS active
    FROM agency_month_rows(as_of)
    GROUP BY source, ori, month
), years AS (
    SELECT source, ori, year(month) AS year, any_value(agency_name) AS agency_name,
           max(population) AS population, count(*) AS months_in_data,
           coalesce(list(month(month) ORDER BY month) FILTER (WHERE filed), []) AS filed_months,
           coalesce(list(month(month) ORDER BY month) FILTER (WHERE active), []) AS active_months
    FROM months
    GROUP BY source, ori, year(month)
)
SELECT source, ori, year, agency_name, population, months_in_data, filed_months, active_months,
       CASE WHEN len(filed_months) = 0 THEN 'not_reported'
            WHEN active_months = [12] THEN 'annual'
            WHEN active_months = [6, 12] THEN 'half_yearly'
            WHEN len(filed_months) = 12 THEN 'monthly'
            ELSE 'partial' END AS pattern
FROM years;

CREATE OR REPLACE VIEW agency_reporting_patterns AS
SELECT * FROM agency_reporting_patterns_as_of('infinity');

-- The periods an agency reported, each with its count: a month, a half-year or a year.
CREATE OR REPLACE MACRO agency_reporting_periods_as_of(as_of) AS TABLE
SELECT r.source, r.ori, r.offense, p.pattern, p.agency_name,
       CAST(CASE p.pattern WHEN 'annual' THEN make_date(p.year, 1, 1)
                           WHEN 'half_yearly' THEN r.month - INTERVAL 5 MONTH
                           ELSE r.month END AS DATE) AS period_start,
       CAST(r.month + INTERVAL 1 MONTH AS DATE) AS period_end,
       r.actual AS n, r.raw_sha256, r.last_refresh_date
FROM agency_month_rows(as_of) r
JOIN agency_reporting_patterns_as_of(as_of) p
  ON p.source = r.source AND p.ori = r.ori AND p.year = year(r.month)
WHERE r.actual IS NOT NULL
  AND CASE p.pattern WHEN 'annual' THEN month(r.month) = 12
                     WHEN 'half_yearly' THEN month(r.month) IN (6, 12)
                     ELSE list_contains(p.filed_months, month(r.month)) END;

CREATE OR REPLACE VIEW agency_reporting_periods AS
SELECT * FROM agency_reporting_periods_as_of('infinity');

-- A count over whole months [start_month, end_month) from the periods an agency reported;
-- one row, from the source that answers best (a whole answer first, then the CDE):
--   months            months in the window
--   months_with_data  months inside periods that lie wholly in the window
--   n                 their sum, only when every month of the window is one of them
--   split_periods     periods that cross an edge of the window (an annual or half-year total
--                     of which the window holds a part): while there is one, n is NULL
--   months_in_data    month rows of the source in the window, filed or not
-- No row: no source has this agency and offense in the window.
--   SELECT * FROM monthly_count('agency:FL0130000', 'murder', '2017-01-01', '2018-01-01', 'infinity');
CREATE OR REPLACE MACRO monthly_count(jur, off, start_month, end_month, as_of) AS TABLE
WITH win AS (
    SELECT CAST(start_month AS DATE) AS s, CAST(end_month AS DATE) AS e
), seen AS (
    SELECT source, count(DISTINCT month) AS months_in_data
    FROM agency_month_rows(as_of), win
    WHERE 'agency:' || ori = jur AND offense = off AND month >= s AND month < e
    GROUP BY source
), touching AS (
    SELECT p.*, period_start >= s AND period_end <= e AS inside,
           date_diff('month', greatest(period_start, s), least(period_end, e)) AS overlap
    FROM agency_reporting_periods_as_of(as_of) p, win
    WHERE 'agency:' || ori = jur AND offense = off AND period_end > s AND period_start < e
), per_source AS (
    SELECT source,
           coalesce(sum(overlap) FILTER (WHERE inside), 0) AS months_with_data,
           coalesce(sum(overlap) FILTER (WHERE NOT inside), 0) AS split_months,
           sum(n) FILTER (WHERE inside) AS total,
           list(struct_pack(period_start, period_end, pattern, agency_name, ori)
                ORDER BY period_start) FILTER (WHERE NOT inside) AS split_periods,
           list(DISTINCT raw_sha256) AS raw_sha256s,
           max(last_refresh_date) AS last_refresh_date
    FROM touching
    GROUP BY source
), answers AS (
    SELECT coalesce(seen.source, per_source.source) AS source,
           date_diff('month', s, e) AS months,
           coalesce(months_with_data, 0) AS months_with_data,
           CASE WHEN months_with_data = date_diff('month', s, e) AND split_periods IS NULL
                THEN total END AS n,
           raw_sha256s, last_refresh_date, split_periods, coalesce(split_months, 0) AS split_months,
           coalesce(months_in_data, 0) AS months_in_data
    FROM seen FULL JOIN per_source USING (source), win
)
SELECT * FROM answers
ORDER BY n IS NULL, months_with_data DESC, source <> 'us_fbi_cde_agency_monthly'
LIMIT 1;

-- Which population a jurisdiction has in a year: Census estimates for places and counties
-- (newest vintage unless one is asked for); for agencies the population served, from the CDE
-- or the UCR files (any ORI, named by the model when it knows the agency).
CREATE OR REPLACE MACRO population_of(jur, yr, as_of) AS TABLE
SELECT 'census' AS kind, p.population, p.vintage, p.name, p.raw_sha256
FROM jurisdictions j
JOIN us_census_population_as_of(as_of) p ON p.geo_id = j.geo_id
WHERE j.jurisdiction_id = jur AND p.year = yr AND p.measure = 'estimate'
UNION ALL
(SELECT 'agency_served', max(m.population), NULL,
        coalesce(any_value(j.name), any_value(m.agency_name)), any_value(m.raw_sha256)
 FROM agency_month_rows(as_of) m
 LEFT JOIN jurisdictions j ON j.jurisdiction_id = jur
 WHERE 'agency:' || m.ori = jur AND year(m.month) = yr AND m.population IS NOT NULL
 GROUP BY m.source
 ORDER BY m.source <> 'us_fbi_cde_agency_monthly'
 LIMIT 1);
