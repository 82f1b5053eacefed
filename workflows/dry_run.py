"""Check before creating (issue 16, DESIGN "Dry run"): what the procedure's first automatic
check would say of an application, without writing anything.

Why not start the instance inside a SAVEPOINT and roll it back: a start also queues work
for the background workers, mails, spends numbers and audits, and with workers on the
check would not even run in the request. Instead this reads, from the version a start
would run, which service tasks follow the start event before any person's step (the
procedure's own check: `transfer.check`, `suspension.check`, …) and calls those same
handlers on the would-be instance, which is never added to the session. The rules are the
handlers' own, so nothing is written twice and nothing can disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

import handlers
from forms import FORMS
from handlers.rule_titles import TITLES
from handlers.rules import title_of
from webapp.models import Instance, ProcessVersion, audit, db
from webapp.models.vocabulary import PROCEDURES

from . import deploy
from .persistence import json_safe
from .runtime import ContextFactory


@dataclass(frozen=True)
class Refusal:
    """One rule the application fails: its id, Chinese title and message, and the start
    form's fields it concerns (empty: it concerns the student, shown above the form)."""

    rule: str | None
    title: str
    message: str
    fields: tuple[str, ...]

    def out(self) -> dict:
        return {
            "rule": self.rule,
            "title": self.title,
            "message": self.message,
            "fields": list(self.fields),
        }

    @property
    def text(self) -> str:
        """Title and message as a page shows them beside the field."""
        return f"{self.title}：{self.message}"


def first_checks(version: ProcessVersion) -> list:
    """The check steps (`<procedure>.check`: they only read) reached from the start event
    before any person's step. Another automatic step ends the walk on its path: graduation's
    classification writes the roster, so it is never run on a would-be instance."""
    spec = deploy.parsed(version).spec
    todo, seen, found = [spec.start], set(), []
    while todo:
        task = todo.pop(0)
        if task.name in seen:
            continue
        seen.add(task.name)
        operation = getattr(task, "operation_name", None)
        if operation:
            if operation.endswith(".check"):
                found.append(task)
        elif not getattr(task, "manual", False):
            todo.extend(task.outputs)
    return found


def refusals(
    procedure: str, plan, user, version: ProcessVersion, context: ContextFactory
) -> list[Refusal]:
    """What the first automatic checks of `version` refuse in the application `plan`."""
    data = json_safe(plan.data)
    would_be = Instance(
        procedure=procedure,
        process_version=version,
        variant=version.variant,
        status="running",
        student_id=getattr(plan.student, "id", None),
        initiator_id=getattr(user, "id", None),
        school_id=plan.school_id,
        partner_school_id=plan.partner_school_id,
        data=data,
    )
    handlers.load_all()
    on_form = {f.name for f in FORMS[PROCEDURES[procedure].start_form].fields}
    found = []
    for step in first_checks(version):
        result = handlers.HANDLERS[step.operation_name](context(would_be, user, dict(data)))
        if result.get("ok") is False:
            rule = result.get("rule")
            title = title_of(rule) if rule in TITLES else (step.bpmn_name or title_of(rule))
            fields = tuple(f for f in TITLES.get(rule or "", ("", ()))[1] if f in on_form)
            found.append(Refusal(rule, title, result.get("message") or title, fields))
    return found


def screen(
    procedure: str, plan, user, version: ProcessVersion, context: ContextFactory
) -> list[Refusal]:
    """`refusals`; a refused attempt leaves one audit row in the user's name and nothing
    else (what the checks read or staged, such as uploads, is let go), an accepted one none."""
    found = refusals(procedure, plan, user, version, context)
    if found:
        db.session.rollback()
        after = {"refusals": [r.out() for r in found], "data": json_safe(plan.data)}
        audit(user, f"{procedure}.start_refused", plan.student, None, after)
    return found
