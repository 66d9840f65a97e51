-- The ledger of record (sanctuarywatch/claims.py): only evaluations that follow a load are
-- recorded, each with the run that triggered it and what moved. What-if questions
-- (--as-of, --known-on, a user's claims file, the report) compute and print, never write.
-- Rows written before this rule by what-if runs have no run_id; the views leave them out.
ALTER TABLE claim_evaluations ADD COLUMN IF NOT EXISTS moved JSON;  -- [{figure, from, to}]

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

-- us_doj_sanctuary_mentions (011) as the documents said at time ts, for --known-on.
CREATE OR REPLACE MACRO us_doj_sanctuary_mentions_as_of(ts) AS TABLE
WITH docs AS (
    SELECT 'release' AS kind, uuid AS doc_id, release_date, title, url
    FROM us_doj_press_releases_as_of(ts) WHERE sanctuary_related
    UNION ALL
    SELECT 'speech', url, release_date, title, url
    FROM us_doj_speeches_as_of(ts) WHERE sanctuary_related
), mentions AS (
    SELECT doc_id, ordinal, jurisdiction_id, matched, context, context_kind, list_lead
    FROM us_doj_release_jurisdictions_as_of(ts)
    UNION ALL
    SELECT doc_id, ordinal, jurisdiction_id, matched, context, context_kind, list_lead
    FROM us_doj_speech_jurisdictions_as_of(ts)
)
SELECT d.kind, d.doc_id, d.release_date, d.title, d.url, m.ordinal, m.jurisdiction_id,
       j.name AS jurisdiction, j.kind AS jurisdiction_kind, m.matched, m.context,
       m.context_kind, m.list_lead
FROM docs d JOIN mentions m USING (doc_id) JOIN us_doj_jurisdictions j USING (jurisdiction_id);
