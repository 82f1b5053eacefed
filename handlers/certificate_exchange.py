"""结业换发毕业证书 (certificate exchange): checks and the final step.

A student who left with a 结业 (修业) certificate and later meets the graduation
requirements by make-up exams or retaken courses, within the period the documents set,
exchanges it for a 毕业证书 dated on the exchange: "两年内达到毕业要求的，可以换发毕业证书"
(000 ⑦ 第二十八条); "结业后可以补考、重修……修满毕业学分后，经上级主管学籍教育行政部门验印，
可颁发毕业证书，毕业时间按发证日期填写" (002 第三十二条). The period is the region's table
`certificate_exchange_period`; "now passing" is the region's graduation table of the stage,
asked about the student's current results. The old certificate stays, and its number is
kept in the history row of the exchange.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from dateutil.relativedelta import relativedelta

from webapp.models import Certificate, Organization, Result, RosterEntry, Student, china_today, db

from . import Context, handler, procedure_tables
from .certificates import CertificateKinds, plan_credits_missing
from .graduation import DECISION_FOR_STAGE, PRIORITY, gather
from .records import change_record, issue_certificate
from .rules import RuleSet
from .serials import reserve_serials

PERIOD_TABLE = "certificate_exchange_period"
TABLES = procedure_tables("certificate_exchange", PERIOD_TABLE)


@dataclass
class ExchangeFacts:
    student: Student
    today: date
    old: Certificate | None  # the 结业 (修业) certificate of a graduation verification
    period: dict = field(default_factory=dict)  # the region's table row for the stage
    makeups: int = 0  # results recorded since the old certificate
    reasons: list[str] = field(default_factory=list)  # why the tables still say 结业
    classification: str = ""

    @property
    def deadline(self) -> date | None:
        if self.old is None:
            return None
        months, years = (
            self.period.get("months_after_certificate"),
            self.period.get("years_after_entry"),
        )
        if months is not None:
            return self.old.issued_at.date() + relativedelta(months=int(months))
        if years is not None:
            return date(self.student.entry_year + int(years), 8, 31)
        return None

    @property
    def basis(self) -> str:
        return str(self.period.get("basis") or "").rstrip("。")

    @property
    def reasons_text(self) -> str:
        return "；".join(self.reasons)


EXCHANGE_RULES = RuleSet()


@EXCHANGE_RULES.rule(
    "completed_certificate",
    "该学生没有经毕业验印发给的结业（修业）证书，不能换发毕业证书（000 ⑦ 第二十八条；002 第三十二条）。",
)
def _completed_certificate(f: ExchangeFacts) -> bool:
    return f.old is not None and f.student.status == "completed"


@EXCHANGE_RULES.rule(
    "exchange_stage",
    "本学段不办理结业换发毕业证书：{f.basis}。",
    source="000 ⑦ 第二十八条；002 第三十二条（各学段的规定见 certificate_exchange_period 表）",
)
def _exchange_stage(f: ExchangeFacts) -> bool:
    return bool(f.period.get("allowed"))


@EXCHANGE_RULES.rule(
    "exchange_period",
    "已超过换发毕业证书的期限（{f.deadline} 前）：{f.basis}。",
    source="000 ⑦ 第二十八条；002 第三十条、第三十二条（期限见 certificate_exchange_period 表）",
)
def _exchange_period(f: ExchangeFacts) -> bool:
    return f.deadline is None or f.today <= f.deadline


@EXCHANGE_RULES.rule(
    "makeup_results_recorded",
    "结业证书发出后没有新的补考、重修成绩：请先导入补考成绩，再申请换发（002 第三十二条“结业后可以补考、重修”）。",
)
def _makeup_results_recorded(f: ExchangeFacts) -> bool:
    return f.makeups > 0


@EXCHANGE_RULES.rule(
    "now_graduating",
    "按本地区毕业判定表，该学生仍未达到毕业要求：{f.reasons_text}（000 ⑦ 第二十八条“达到毕业要求的”）。",
)
def _now_graduating(f: ExchangeFacts) -> bool:
    return f.classification == "graduated"


def old_certificate(student: Student) -> Certificate | None:
    """The student's 结业 (修业) certificate from a graduation roster, the newest."""
    entry = (
        RosterEntry.query.filter(
            RosterEntry.student_id == student.id,
            RosterEntry.classification == "completed",
            RosterEntry.struck.is_(False),
            RosterEntry.certificate_number.isnot(None),
        )
        .order_by(RosterEntry.id.desc())
        .first()
    )
    return Certificate.query.filter_by(number=entry.certificate_number).first() if entry else None


def _facts(ctx: Context) -> ExchangeFacts:
    student = db.session.get(Student, ctx.data["student_id"])
    facts = ExchangeFacts(student, china_today(), old_certificate(student))
    facts.period = ctx.decide_first(PERIOD_TABLE, {"stage": student.stage})
    if facts.old is None or student.stage not in DECISION_FOR_STAGE:
        return facts
    facts.makeups = Result.query.filter(
        Result.student_id == student.id,
        Result.current.is_(True),
        Result.recorded_at > facts.old.issued_at,
    ).count()
    school = db.session.get(Organization, student.school_id)
    asked = {**gather([student], set())[student.id].as_data(), "plan_credits": school.plan_credits}
    outputs = ctx.decide_of("graduation", DECISION_FOR_STAGE[student.stage], asked)
    facts.classification = min((o["classification"] for o in outputs), key=PRIORITY.index)
    facts.reasons = [o["reason"] for o in outputs if o["classification"] == facts.classification]
    return facts


@handler("certificate_exchange.check")
def check_exchange(ctx: Context) -> dict:
    """The checks, when the school applies and again right before the new certificate."""
    student = db.session.get(Student, ctx.data["student_id"])
    if student.stage == "vocational" and (refusal := plan_credits_missing(student.school)):
        return refusal
    facts = _facts(ctx)
    return EXCHANGE_RULES.first_failure(facts).result(
        old_certificate=facts.old.number if facts.old else None,
        deadline=facts.deadline.isoformat() if facts.deadline else None,
    )


@handler("certificate_exchange.finalize")
def finalize_exchange(ctx: Context) -> dict:
    """A 毕业证书 numbered year + school + serial, dated today; status 毕业; the history row
    keeps the old certificate's number. Once."""
    student = db.session.get(Student, ctx.data["student_id"])
    done = Certificate.query.filter_by(instance_id=ctx.instance.id).first()
    if done is not None:
        return {"certificate": done.number}
    old = old_certificate(student)
    today = china_today()
    prefix = f"{today.year}{student.school.code[-4:]}"
    (serial,) = reserve_serials(prefix, 1)
    number = f"{prefix}{serial:04d}"
    noted = {
        "old_certificate": old.number if old else None,
        "old_kind": old.kind if old else None,
        "certificate": number,
        "graduated_on": today.isoformat(),
    }
    student, row = change_record(ctx, "certificate_exchange", {"status": "graduated"}, noted=noted)
    kind = CertificateKinds(ctx)("graduated", student.stage)
    issue_certificate(ctx, student, kind, number)
    return {"certificate": number, "kind": kind, "old_certificate": noted["old_certificate"]}
