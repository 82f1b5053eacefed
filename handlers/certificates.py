"""Who gets which certificate (RULES.md §4 and its additions): the 肄业 rules, the kind of
certificate a classification gives in a stage, and a vocational school's plan credits.

A 肄业 certificate is never issued on its own: like every 毕业、修业 certificate it is
numbered (year + school + serial) and stamped in the graduation verification (验印) of
its cohort, "各学校所有学生的毕业、修业和肄业均需经各市(区)教育局验印、核准，并统一下发证书"
(000 第二部分 第二十五条). The withdrawal only says whether the student will get one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from forms.withdrawal import ABSENT_WITHOUT_LEAVE
from webapp.models import Instance, Organization, Result, StatusHistory, Student, china_today, db

from . import Context
from .rules import RuleSet, Verdict

COMPULSORY = ("primary", "junior")
# Withdrawals the documents call automatic (自动退学): after a suspension not resumed
# (⑦ 第二十一条; 002 第十五条.1) and after absence without leave (⑦ 第二十二条).
AUTOMATIC_REASONS = ("suspension_not_resumed", ABSENT_WITHOUT_LEAVE)


@dataclass
class LeavingFacts:
    student: Student
    automatic: bool
    days_studied: int
    failed: list[str]

    @property
    def failed_text(self) -> str:
        return "、".join(self.failed)


LEAVING_CERTIFICATE_RULES = RuleSet()


@LEAVING_CERTIFICATE_RULES.rule(
    "leaving_certificate_stage",
    "义务教育阶段不发肄业证书：未毕业者发给小学修业证书或初中的义务教育证书（000 第二十三条）。",
)
def _stage(f: LeavingFacts) -> bool:
    return f.student.stage not in COMPULSORY


@LEAVING_CERTIFICATE_RULES.rule(
    "leaving_certificate_automatic",
    "自动退学学生，不发给肄业证书（000 ⑦ 第二十九条）。",
)
def _automatic(f: LeavingFacts) -> bool:
    return not f.automatic


@LEAVING_CERTIFICATE_RULES.rule(
    "leaving_certificate_one_year",
    "在校学习不满一年，不发肄业证书（000 第二部分 第二十四条“在校学习一年以上的退学者”；"
    "002 第十六条“在校学满一学年以上”）。",
)
def _one_year(f: LeavingFacts) -> bool:
    return f.days_studied >= 365


@LEAVING_CERTIFICATE_RULES.rule(
    "leaving_certificate_passing",
    "中等职业学校学生须学满一年且成绩合格方可发给肄业证书（002 第十六条、第三十三条），"
    "不合格：{f.failed_text}。",
)
def _passing(f: LeavingFacts) -> bool:
    return f.student.stage != "vocational" or not f.failed


def _withdrawal(student: Student) -> tuple[StatusHistory | None, Instance | None]:
    row = (
        StatusHistory.query.filter_by(student_id=student.id, procedure="withdrawal")
        .order_by(StatusHistory.id.desc())
        .first()
    )
    instance = db.session.get(Instance, row.instance_id) if row and row.instance_id else None
    return row, instance


def failed_subjects(student_id: int) -> list[str]:
    rows = Result.query.filter_by(student_id=student_id, current=True, result="fail")
    return sorted({r.subject for r in rows})


def leaving_facts(student: Student) -> LeavingFacts:
    """The facts of a withdrawn student: automatic or not, how long studied, failed subjects."""
    row, instance = _withdrawal(student)
    left_on = row.at.date() if row else china_today()
    automatic = instance is not None and (
        instance.initiator_id is None or (instance.data or {}).get("reason") in AUTOMATIC_REASONS
    )
    return LeavingFacts(
        student=student,
        automatic=automatic,
        days_studied=(left_on - date(student.entry_year, 9, 1)).days,
        failed=failed_subjects(student.id),
    )


def leaving_verdict(student: Student) -> Verdict:
    """Whether a withdrawn student is to receive a 肄业 certificate at the next 验印."""
    return LEAVING_CERTIFICATE_RULES.first_failure(leaving_facts(student))


# -- the kind of certificate --------------------------------------------------------------

KIND_TABLE = "graduation_certificates"


class CertificateKinds:
    """The table `graduation_certificates` asked once per (classification, stage); from
    another procedure (a certificate exchange) as the region's graduation has it."""

    def __init__(self, ctx: Context, procedure: str = "graduation") -> None:
        self.ctx = ctx
        self.procedure = procedure
        self.known: dict[tuple[str, str], str] = {}

    def __call__(self, classification: str, stage: str) -> str:
        key = (classification, stage)
        if key not in self.known:
            facts = {"classification": classification, "stage": stage}
            if self.procedure == self.ctx.instance.procedure:
                rows = self.ctx.decide(KIND_TABLE, facts)
            else:
                rows = self.ctx.decide_of(self.procedure, KIND_TABLE, facts)
            if not rows:
                raise ValueError(f"决策表“{KIND_TABLE}”没有适用于 {facts} 的规则")
            self.known[key] = rows[0]["kind"]
        return self.known[key]


# -- a vocational school's credits --------------------------------------------------------

PLAN_CREDITS_RULE = "vocational_plan_credits"


def plan_credits_missing(school: Organization) -> dict | None:
    """A refusal naming the school when it has set no graduation credits (002 第三十一条)."""
    if school.plan_credits is not None:
        return None
    return Verdict(
        False,
        PLAN_CREDITS_RULE,
        f"{school.name}（学校代码 {school.code}）尚未设定本校报备教学计划规定的毕业学分"
        "（002 第三十一条“修满教学计划规定的学分”），无法判定毕业。请由管理员在机构导入"
        "（xueji import orgs）的 plan_credits 列为该校填写。",
    ).result()
