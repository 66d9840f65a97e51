-- The claims ledger's history: every evaluation of every claim, appended, never updated,
-- so a user can see when a verdict changed and which load changed it.
CREATE TABLE IF NOT EXISTS claim_evaluations (
    claim_id       VARCHAR NOT NULL,
    evaluated_at   TIMESTAMPTZ NOT NULL,
    run_id         VARCHAR,          -- the load that triggered it (NULL: asked by a user)
    compared_on    DATE,             -- the day the comparison is about (the claim's own, or --as-of)
    known_on       DATE,             -- data as observed on this day (NULL: everything so far)
    verdict        VARCHAR NOT NULL, -- supported | contradicted | mixed | unverifiable
    reason         VARCHAR NOT NULL,
    result         JSON NOT NULL     -- values, caveats and evidence
);
