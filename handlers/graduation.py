"""Graduation verification (毕业验印): classify a cohort, and in the end issue its certificates.

The classification rules are the instance's decision tables (graduation_*.dmn, RULES.md
§4); this module only gathers each student's facts from the result rows and writes the
roster. Everything works over database rows in bulk: a county's graduating year is
thousands of students in one instance.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import insert, update

from webapp.models import (
    Certificate,
    Organization,
    Result,
    RosterEntry,
    StatusHistory,
    Student,
    china_today,
    db,
)

from . import Context, handler, procedure_tables
from .certificates import KIND_TABLE, CertificateKinds, leaving_verdict, plan_credits_missing
from .records import change_records
from .rules import RuleSet
from .school_rules import GRADUATING_GRADES
from .serials import reserve_serials

DECISION_FOR_STAGE = {
    "primary": "graduation_compulsory",
    "junior": "graduation_compulsory",
    "senior": "graduation_senior",
    "vocational": "graduation_vocational",
}
# When several rules match, the weakest outcome decides (肄业 < 结业/修业 < 毕业).
PRIORITY = ("left", "completed", "graduated")
CITY_STAGES = ("senior", "vocational")  # the city verifies and stamps these (验印)
NEW_STATUS = {"graduated": "graduated", "completed": "completed", "left": "left"}
TABLES = procedure_tables("graduation", *sorted({*DECISION_FOR_STAGE.values(), KIND_TABLE}))


def _number(value) -> int | float:
    value = float(value or 0)
    return int(value) if value.is_integer() else round(value, 1)


@dataclass
class Facts:
    """What the decision tables read about one student (names are the DMN input names)."""

    left: bool = False
    core_failed: int = 0
    other_failed: int = 0
    conduct: str = "missing"
    pe: str = "missing"
    internship: str = "missing"
    certificate: str = "missing"
    required_credits: float = 0
    elective2_credits: float = 0
    total_credits: float = 0
    failed: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def as_data(self) -> dict:
        return {
            "left": self.left,
            "core_failed": self.core_failed,
            "other_failed": self.other_failed,
            "core_failed_subjects": "、".join(self.failed["core"]),
            "other_failed_subjects": "、".join(self.failed["other"]),
            "conduct": self.conduct,
            "pe": self.pe,
            "internship": self.internship,
            "certificate": self.certificate,
            "required_credits": _number(self.required_credits),
            "elective2_credits": _number(self.elective2_credits),
            "total_credits": _number(self.total_credits),
        }


SINGLE_LEVELS = ("conduct", "pe", "internship", "certificate")
CREDIT_KINDS = {"required": "required_credits", "elective2": "elective2_credits"}


def gather(students: list[Student], left_ids: set[int]) -> dict[int, Facts]:
    facts = {s.id: Facts(left=s.id in left_ids) for s in students}
    ids = sorted(facts)
    for start in range(0, len(ids), 900):
        rows = db.session.query(
            Result.student_id, Result.kind, Result.subject, Result.result, Result.credits
        ).filter(Result.student_id.in_(ids[start : start + 900]), Result.current.is_(True))
        for sid, kind, subject, result, credits in rows:
            f = facts[sid]
            if kind in SINGLE_LEVELS:
                # Any failing record of conduct, PE, internship or certificate fails it.
                if getattr(f, kind) != "fail":
                    setattr(f, kind, result)
                continue
            if result == "fail":
                f.failed[kind].append(subject)
                if kind == "core":
                    f.core_failed += 1
                elif kind == "other":
                    f.other_failed += 1
            elif credits is not None:
                if kind in CREDIT_KINDS:
                    setattr(f, CREDIT_KINDS[kind], getattr(f, CREDIT_KINDS[kind]) + credits)
                f.total_credits += credits
    return facts


def cohort(school_id: int, entry_year: int) -> tuple[list[Student], set[int], list[dict]]:
    """The cohort's students: enrolled in a graduating grade, and those who withdrew and are
    to receive a 肄业 certificate (handlers/certificates.py) without one yet; and the
    withdrawn students who are not, each with the rule that says so."""
    enrolled = Student.query.filter(
        Student.school_id == school_id,
        Student.entry_year == entry_year,
        Student.status == "enrolled",
        Student.grade.in_(GRADUATING_GRADES),
    ).all()
    left, not_left = [], []
    for s in Student.query.filter_by(
        school_id=school_id, entry_year=entry_year, status="withdrawn"
    ):
        if any(c.kind == "肄业证书" for c in s.certificates):
            continue
        verdict = leaving_verdict(s)
        if verdict.ok:
            left.append(s)
        else:
            not_left.append(
                {
                    "student_id": s.id,
                    "name": s.name,
                    "rule": verdict.rule,
                    "message": verdict.message,
                }
            )
    return enrolled + left, {s.id for s in left}, not_left


@dataclass
class CohortFacts:
    school: Organization
    entry_year: int
    students: list[Student]


COHORT_RULES = RuleSet()


@COHORT_RULES.rule(
    "empty_cohort",
    "{f.school.name} {f.entry_year} 级没有处于毕业年级的在籍学生。",
    source="000 第二十三条，第二部分 第二十三条；002 第三十一条（修业期满的在籍学生）",
)
def _cohort_not_empty(f: CohortFacts) -> bool:
    return bool(f.students)


@COHORT_RULES.rule(
    "one_stage",
    "同一批毕业验印只能包含一个学段的学生，请按学段分别提交。",
    source="平台规则：各学段的毕业条件不同（000 第二十三条，第二部分 第二十三条；002 第三十一条）",
)
def _one_stage(f: CohortFacts) -> bool:
    return len({s.stage for s in f.students}) <= 1


def classify_one(ctx: Context, stage: str, facts: dict) -> tuple[str, list[str]]:
    """The weakest matching outcome of the stage's table, with the reasons that gave it."""
    outputs = ctx.decide(DECISION_FOR_STAGE[stage], facts)
    if not outputs:
        raise ValueError(f"决策表 {DECISION_FOR_STAGE[stage]} 没有给出结论（应有兜底规则）")
    chosen = min((o["classification"] for o in outputs), key=PRIORITY.index)
    return chosen, [o["reason"] for o in outputs if o["classification"] == chosen]


def _refusal(school: Organization, entry_year: int, students: list[Student]) -> dict | None:
    """The cohort's own rules, and a vocational school's plan credits; None when they hold."""
    verdict = COHORT_RULES.first_failure(CohortFacts(school, entry_year, students))
    if not verdict.ok:
        return verdict.result()
    if students[0].stage == "vocational":
        return plan_credits_missing(school)
    return None


@handler("graduation.check")
def check(ctx: Context) -> dict:
    """What can refuse a cohort on its face, before a roster is written: the step a dry run
    runs (an empty cohort is refused on the form, not made a case)."""
    school = db.session.get(Organization, ctx.data["school_id"])
    entry_year = int(ctx.data["entry_year"])
    students, _, _ = cohort(school.id, entry_year)
    return _refusal(school, entry_year, students) or {"ok": True}


@handler("graduation.classify")
def classify(ctx: Context) -> dict:
    """Write the roster: every student of the cohort with a classification and its reasons
    (the cohort is asked again: it may have changed since the check)."""
    school = db.session.get(Organization, ctx.data["school_id"])
    entry_year = int(ctx.data["entry_year"])
    students, left_ids, not_left = cohort(school.id, entry_year)
    if refusal := _refusal(school, entry_year, students):
        return refusal
    (stage,) = {s.stage for s in students}
    facts = gather(students, left_ids)
    db.session.execute(
        RosterEntry.__table__.delete().where(RosterEntry.instance_id == ctx.instance.id)
    )
    rows, counts = [], defaultdict(int)
    for s in students:
        asked = {**facts[s.id].as_data(), "plan_credits": school.plan_credits}
        classification, reasons = classify_one(ctx, stage, asked)
        counts[classification] += 1
        rows.append(
            {
                "instance_id": ctx.instance.id,
                "student_id": s.id,
                "class_name": s.class_name,
                "stage": stage,
                "classification": classification,
                "reasons": reasons,
                "struck": False,
            }
        )
    db.session.execute(insert(RosterEntry), rows)
    return {
        "ok": True,
        "stage": stage,
        "needs_city": stage in CITY_STAGES,
        "total": len(rows),
        "counts": dict(counts),
        "not_left": not_left,
    }


@handler("graduation.finalize")
def finalize(ctx: Context) -> dict:
    """Certificates numbered year + school digits + serial, statuses set, the roster kept."""
    school = db.session.get(Organization, ctx.data["school_id"])
    entries = (
        RosterEntry.query.filter_by(instance_id=ctx.instance.id, struck=False)
        .order_by(RosterEntry.class_name, RosterEntry.student_id)
        .all()
    )
    if StatusHistory.query.filter_by(instance_id=ctx.instance.id).first() is not None:
        return {"issued": sum(1 for e in entries if e.certificate_number)}
    year = china_today().year
    prefix = ctx.data.get("certificate_prefix", "{year}{school4}").format(
        year=year, school4=school.code[-4:], school=school.code
    )
    digits = int(ctx.data.get("certificate_serial_digits", 4))
    serials = reserve_serials(prefix, len(entries))
    numbered, certificates, kind = [], [], CertificateKinds(ctx)
    for entry, serial in zip(entries, serials, strict=True):
        number = f"{prefix}{serial:0{digits}d}"
        numbered.append({"id": entry.id, "certificate_number": number})
        certificates.append(
            {
                "student_id": entry.student_id,
                "kind": kind(entry.classification, entry.stage),
                "number": number,
                "instance_id": ctx.instance.id,
            }
        )
    if numbered:
        db.session.execute(update(RosterEntry), numbered)
        db.session.execute(insert(Certificate), certificates)
    changed = change_records(
        ctx,
        "graduation",
        {e.student_id: {"status": NEW_STATUS[e.classification]} for e in entries},
        school.id,
    )
    return {"issued": len(numbered), "changed": changed, "prefix": prefix}
