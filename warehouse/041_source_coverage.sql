-- The windows each source has really been asked for and seen, one row per committed run and
-- dimension (sanctuarywatch/coverage.py): `event` spans of event dates fetched in full,
-- `updated` spans of upstream update stamps. Times are the source's local time; covered_to
-- is exclusive. A failed run records nothing; helpers name every gap in a count's window.
CREATE TABLE IF NOT EXISTS source_coverage (
    source        VARCHAR NOT NULL,
    run_id        VARCHAR NOT NULL,
    dimension     VARCHAR NOT NULL,   -- event | updated
    covered_from  TIMESTAMP NOT NULL,
    covered_to    TIMESTAMP NOT NULL,
    observed_at   TIMESTAMPTZ NOT NULL
);

-- Covered event spans per source, overlapping runs merged (gaps and islands).
CREATE OR REPLACE VIEW source_coverage_spans AS
WITH ordered AS (
    SELECT source, dimension, covered_from, covered_to,
           max(covered_to) OVER (PARTITION BY source, dimension ORDER BY covered_from, covered_to
                                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reach
    FROM source_coverage
), islands AS (
    SELECT *, sum(CASE WHEN reach IS NULL OR covered_from > reach THEN 1 ELSE 0 END)
              OVER (PARTITION BY source, dimension ORDER BY covered_from, covered_to) AS island
    FROM ordered
)
SELECT source, dimension, min(covered_from) AS covered_from, max(covered_to) AS covered_to
FROM islands GROUP BY source, dimension, island;
