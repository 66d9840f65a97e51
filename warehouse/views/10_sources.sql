-- Each source's freshness, completeness and covered event dates (`sanctuarywatch sources`).
-- Re-applied on every migrate (warehouse.migrate): edit the definition here, once; it
-- holds no data, so it needs no numbered file.

-- Each source's last success and, when its newest run did not succeed, since when it has been
-- stale (the first unsuccessful run after the last success). `sanctuarywatch sources` shows
-- this view; SQL users reading the snapshot get the same answer.
--   stale_since  NULL while the newest finished run succeeded; otherwise the start of the first
--                failed/abandoned run after the last success (or the first run ever)
--   consecutive_failures   failed runs since the last success (the daemon's backoff counts them)
CREATE OR REPLACE VIEW source_freshness AS
WITH finished AS (
    SELECT * FROM runs WHERE status IN ('success', 'failed', 'abandoned')
),
last_ok AS (
    SELECT source, max(started_at) AS last_success_start, max(ended_at) AS last_success
    FROM finished WHERE status = 'success' GROUP BY source
),
newest AS (
    SELECT source, status AS last_status, error AS last_error, ended_at AS last_run
    FROM finished QUALIFY row_number() OVER (PARTITION BY source ORDER BY started_at DESC) = 1
),
after_ok AS (
    SELECT f.source,
           min(f.started_at) AS first_bad,
           count(*) FILTER (WHERE f.status = 'failed') AS consecutive_failures
    FROM finished f LEFT JOIN last_ok o USING (source)
    WHERE f.status <> 'success'
      AND f.started_at > coalesce(o.last_success_start, '-infinity'::TIMESTAMPTZ)
    GROUP BY f.source
)
SELECT n.source,
       o.last_success,
       n.last_run,
       n.last_status,
       CASE WHEN n.last_status <> 'success' THEN a.first_bad END AS stale_since,
       coalesce(a.consecutive_failures, 0) AS consecutive_failures,
       CASE WHEN n.last_status <> 'success' THEN n.last_error END AS last_error
FROM newest n
LEFT JOIN last_ok o USING (source)
LEFT JOIN after_ok a USING (source);

-- Every source's "complete through" date: newest event time the source is known to cover.
CREATE OR REPLACE VIEW source_completeness AS
SELECT source, complete_through, updated_at FROM source_state;

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
