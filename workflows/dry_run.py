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
from handlers.rules import fields_of, title_of
from webapp.models import HumanTask, Instance, ProcessVersion, audit, db
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


def _checks_from(tasks: list, through: bool) -> list:
    """The check steps (`<procedure>.check`: they only read) among `tasks`, and, `through`,
    among what follows them before any person's step. Another automatic step ends the walk
    on its path: graduation's classification writes the roster, so it never runs here."""
    todo, seen, found = list(tasks), set(), []
    while todo:
        task = todo.pop(0)
        if task.name in seen:
            continue
        seen.add(task.name)
        operation = getattr(task, "operation_name", None)
        if operation:
            if operation.endswith(".check"):
                found.append(task)
        elif through and not getattr(task, "manual", False):
            todo.extend(task.outputs)
    return found


def first_checks(version: ProcessVersion) -> list:
    """The checks a start runs before any person's step."""
    return _checks_from([deploy.parsed(version).spec.start], through=True)


def checks_after(version: ProcessVersion, step: str) -> list:
    """The checks that directly follow a person's step: a correction (修改并重新提交) goes
    straight back to the procedure's check. A review's checks lie behind its decision's
    gateway and are not run for it (a return must not be refused by the approval's rules)."""
    spec = deploy.parsed(version).spec.task_specs.get(step)
    return _checks_from(spec.outputs, through=False) if spec is not None else []


def _run(steps, instance: Instance, user, data: dict, form: str, context) -> list[Refusal]:
    """Each failing check's refusal, with the fields of `form` it concerns."""
    handlers.load_all()
    on_form = {f.name for f in FORMS[form].fields}
    found = []
    for step in steps:
        result = handlers.HANDLERS[step.operation_name](context(instance, user, dict(data)))
        if result.get("ok") is False:
            rule = result.get("rule")
            title = title_of(rule) if rule in TITLES else (step.bpmn_name or title_of(rule))
            fields = tuple(f for f in fields_of(rule) if f in on_form)
            found.append(Refusal(rule, title, result.get("message") or title, fields))
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
    start_form = PROCEDURES[procedure].start_form
    return _run(first_checks(version), would_be, user, data, start_form, context)


def screen(
    procedure: str, plan, user, version: ProcessVersion, context: ContextFactory
) -> list[Refusal]:
    """`refusals`; a refused attempt leaves one audit row in the user's name and nothing
    else (what the checks read or staged, such as uploads, is let go), an accepted one none."""
    found = refusals(procedure, plan, user, version, context)
    if found:
        _audit_refused(user, f"{procedure}.start_refused", plan.student, found, plan.data)
    return found


def screen_step(row: HumanTask, user, clean: dict, context: ContextFactory) -> list[Refusal]:
    """A correction checked before it is submitted, as a start is: the step stays open with
    what was typed, and the attempt leaves one audit row (`<procedure>.correction_refused`)."""
    instance = row.instance
    steps = checks_after(instance.process_version, row.step)
    if not steps:
        return []
    data = {**(instance.data or {}), **json_safe(clean)}
    found = _run(steps, instance, user, data, row.form_key, context)
    if found:
        _audit_refused(user, f"{instance.procedure}.correction_refused", row, found, clean)
    return found


def _audit_refused(user, action: str, obj, found: list[Refusal], typed: dict) -> None:
    """Let go of what the checks read or staged (uploads among it) and keep the attempt as
    one audit row in the user's name: what was refused, and what was typed."""
    db.session.rollback()
    after = {"refusals": [r.out() for r in found], "data": json_safe(typed)}
    audit(user, action, obj, None, after)
