-- The ledger of record (sanctuarywatch/query/claims.py): only evaluations that follow a load are
-- recorded, each with the run that triggered it and what moved. What-if questions
-- (--as-of, --known-on, a user's claims file, the report) compute and print, never write.
-- Rows written before this rule by what-if runs have no run_id; views/50_claims.sql leaves
-- them out.
ALTER TABLE claim_evaluations ADD COLUMN IF NOT EXISTS moved JSON;  -- [{figure, from, to}]
