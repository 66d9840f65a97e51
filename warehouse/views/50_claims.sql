-- The claims ledger of record: the newest recorded verdict of each claim, and each change.
-- Re-applied on every migrate (warehouse.migrate): edit the definition here, once; it
-- holds no data, so it needs no numbered file.

CREATE OR REPLACE VIEW claim_ledger AS
SELECT * FROM claim_evaluations
WHERE run_id IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY claim_id ORDER BY evaluated_at DESC) = 1;

-- Each change of verdict, and the load that caused it.
CREATE OR REPLACE VIEW claim_verdict_changes AS
SELECT * FROM (
    SELECT claim_id, evaluated_at, run_id, verdict, reason, moved,
           lag(verdict) OVER (PARTITION BY claim_id ORDER BY evaluated_at) AS previous_verdict
    FROM claim_evaluations WHERE run_id IS NOT NULL
)
WHERE previous_verdict IS DISTINCT FROM verdict;
