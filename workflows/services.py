"""The services a handler's context offers, as the engine implements them.

A handler asks its context (`handlers.Context`) to decide, tell a school, start a
follow-up procedure, hold or let go of a student, name a partner school or rescope records;
this module answers with the engine's own parts. It is the one place handlers' needs meet
the engine, so handlers import nothing of `workflows`.

Starting a procedure needs the engine's façade, which builds these contexts: the engine
hands its starter in (`start`), so neither module imports the other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from handlers import Context, NoSuchTable
from webapp.models import Instance, Organization, Student, db

from . import decisions, deploy, notices, variants
from .jurisdiction import rescope_students

# engine.start_automatic: (procedure, student, data, why) → the new instance.
Starter = Callable[[str, Student, dict, str], Instance]


def _table(instance: Instance, name: str):
    """The instance's own table; for a version deployed before the table existed, the
    shipped default's (its instances keep running on today's numbers)."""
    try:
        return decisions.table(instance.process_version.dmn or {}, name)
    except KeyError:
        pass
    try:
        return decisions.table(deploy.read_files(instance.procedure)[1], name)
    except KeyError:
        raise NoSuchTable(f"流程版本中没有决策表“{name}”") from None


@dataclass
class EngineContext(Context):
    start: Starter | None = None  # the engine's starter; None where nothing may be started

    def decide(self, table: str, facts: dict) -> list[dict]:
        return decisions.collect(_table(self.instance, table), facts)

    def decide_of(self, procedure: str, table: str, facts: dict) -> list[dict]:
        # The region's variant from the school (the instance records "default" when its
        # own procedure has no override there, but the other procedure may have one).
        school = db.session.get(Organization, self.instance.school_id)
        variant = variants.variant_for(school)
        version = deploy.latest(procedure, variant)
        dmn = version.dmn if version is not None else {}
        try:
            found = decisions.table(dmn or deploy.read_files(procedure, variant)[1], table)
        except KeyError:
            raise NoSuchTable(f"{procedure} 的流程版本中没有决策表“{table}”") from None
        return decisions.collect(found, facts)

    def tell_school(self, school_id: int, kind: str, message: str) -> None:
        notices.tell_school(school_id, kind, message, self.instance.id)

    def start_procedure(self, procedure: str, student: Student, data: dict, why: str) -> int:
        if self.start is None:
            raise RuntimeError(f"此处不能自动发起{procedure}")
        return self.start(procedure, student, data, why).id

    def hold_student(self, student_id: int) -> None:
        self.instance.open_student_id = student_id
        db.session.flush()

    def release_student(self) -> None:
        self.instance.open_student_id = None
        db.session.flush()

    def name_partner_school(self, school_id: int) -> None:
        self.instance.partner_school_id = school_id

    def rescope_students(self, student_ids: Iterable[int]) -> None:
        rescope_students(student_ids)
