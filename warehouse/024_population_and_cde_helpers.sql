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

-- A CDE series summed over [p_start, p_end) months, with how many months had data, so a
-- NULL month (no data) is never read as zero: total is NULL unless every month has data.
CREATE OR REPLACE MACRO cde_monthly_total(p_ori, p_offense, p_series, p_start, p_end) AS TABLE
SELECT count(*) AS months, count(actual) AS months_with_data,
       CASE WHEN count(*) = count(actual) AND count(*) > 0 THEN sum(actual) END AS total
FROM us_fbi_cde_agency_monthly
WHERE ori = p_ori AND offense = p_offense AND series = p_series
  AND month >= CAST(p_start AS DATE) AND month < CAST(p_end AS DATE);
