-- Chicago homicide victims in a window of Chicago wall-clock time [start_local, end_local).
-- offense: 'murder' (IUCR 0110) or 'homicide' (every HOMICIDE IUCR). Usable from the duckdb CLI:
--   SELECT chicago_homicide_victims('2017-01-01', '2017-08-17', 'murder');   -- 447 in the demo
CREATE OR REPLACE MACRO chicago_homicide_victims(start_local, end_local, offense) AS (
    SELECT count(*)
    FROM il_chicago_crimes
    WHERE occurred_local >= CAST(start_local AS TIMESTAMP)
      AND occurred_local < CAST(end_local AS TIMESTAMP)
      AND (offense_class = offense OR (offense = 'homicide' AND offense_class IS NOT NULL))
);
