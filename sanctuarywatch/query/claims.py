"""The claims ledger: each claim's checks re-computed from the warehouse, with a verdict.

Claims live in `data/claims.yaml` (and in any file a user adds). A claim has one or more
checks; each check gives figures (values with caveats and evidence) and a verdict:
supported, contradicted, mixed or unverifiable (what each means: `query.verdicts`).

How a claim's verdict is combined from its checks lives in one place, `combine`: data over
publications, and a publication that restates the claim (its publisher or carrier is the
claimant, or the report the claimant cites) is never support. A check whose figure is
partial (an `incomplete` caveat: a coverage gap, a stalled source, missing months) decides
nothing.

The ledger of record: only evaluations that follow a load are written to
`claim_evaluations` (`record`), each with the run that triggered it and what moved. What-if
questions (`as_of`, `known_on`, a user's claims file, the report) compute and write nothing.

This module is the one place to import them from; each lives with its concern:

    query.claimfile  Claim, load_claims (the bundled file, a user's, $SANCTUARYWATCH_CLAIMS)
    query.verdicts   compare, combine, restates, CheckResult, Evaluation
    query.checks     the kinds of check (CHECKS), evaluate, evaluate_all
    query.ledger     record, reevaluate_after_load, claim_sources
"""

from __future__ import annotations

from sanctuarywatch.query.checks import CHECKS, Context, evaluate, evaluate_all
from sanctuarywatch.query.claimfile import CLAIMS_ENV, REQUIRED, Claim, load_claims
from sanctuarywatch.query.figures import Caveat, Figure
from sanctuarywatch.query.ledger import claim_sources, record, reevaluate_after_load
from sanctuarywatch.query.verdicts import (
    DATA,
    PUBLICATION,
    RESTATEMENT,
    VERDICTS,
    CheckResult,
    Evaluation,
    combine,
    compare,
    restates,
)

__all__ = [
    "CHECKS",
    "CLAIMS_ENV",
    "DATA",
    "PUBLICATION",
    "REQUIRED",
    "RESTATEMENT",
    "VERDICTS",
    "Caveat",
    "CheckResult",
    "Claim",
    "Context",
    "Evaluation",
    "Figure",
    "claim_sources",
    "combine",
    "compare",
    "evaluate",
    "evaluate_all",
    "load_claims",
    "record",
    "reevaluate_after_load",
    "restates",
]
