"""Cancellation (注销): the check and the final step (RULES.md §5)."""

from __future__ import annotations

from . import Context, handler
from .leaving import leave, verdict
from .rules import RuleSet
from .school_rules import ACTIVE_STATUS, NO_OPEN_PROCEDURE

CANCELLATION_RULES = RuleSet()
CANCELLATION_RULES.add(ACTIVE_STATUS)
CANCELLATION_RULES.add(NO_OPEN_PROCEDURE)


@handler("cancellation.check")
def check_cancellation(ctx: Context) -> dict:
    return verdict(CANCELLATION_RULES, ctx)


@handler("cancellation.finalize")
def finalize_cancellation(ctx: Context) -> dict:
    """Status 注销: no procedure accepts the record again (every check requires an active status)."""
    student, _ = leave(ctx, "cancellation", "cancelled")
    return {"status": student.status}
