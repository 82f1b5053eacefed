"""Suspension (休学): checks, final steps, the extension (续办休学), and what the end date triggers.

RULES.md §2. The numbers are the instance's own decision tables, shipped next to the BPMN
and overridden by a regional variant (workflows/bpmn/variants/<variant>/); a version deployed
before they existed is answered by the shipped default's (the context does that):

- `suspension_threshold` (stage, reason → how missed class is measured and the limit; the
  default: compulsory more than 210 class hours, senior high more than one third of the
  year's hours, vocational more than one third of the term's hours, abroad and military none);
- `suspension_length` (stage, reason → months per suspension and per extension, the
  stage's total, and the months after the end date before an automatic withdrawal; the
  default: one year, senior at most two years in total, vocational four, and a vocational
  student's military service for its length);
- `suspension_mandatory`, only where a variant ships it (reason, treatment period → whether
  the school must order the suspension, e.g. Shandong ⑦ 第十八条): no absence threshold then,
  and the variant's BPMN has the county file it instead of deciding;
- `suspension_graduating_year` (stage, term → the graduating grades in which no suspension
  is handled, whether the principal's and head teacher's signatures with the bureau's
  approval let one through, and the passage the refusal cites; the default: the last grade
  of each stage, all year, 000 第十七条; Shandong only senior year 3 in term 2, ⑦ 第十七条;
  Zhushan with the signatures, 003 篇10 五). The bureau's approval is the county review
  every suspension passes (segments/suspension_county.bpmn).

The tables are asked with the stage, the reason and the months some reasons state
(`service_months`, `treatment_months`), so a region's row may read them.

This module gathers the facts and applies what the tables answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta

from webapp.models import Instance, StatusHistory, Student, china_midnight, china_today, db

from . import Context, NoSuchTable, handler, procedure_tables
from .months import months_text, suspended_months, whole_months
from .records import change_record, issue_certificate
from .resumption import resumed
from .rules import Rule, RuleSet
from .school_rules import ENROLLED_STATUS, NO_OPEN_PROCEDURE, NOT_BORROWING
from .schooling import school_term

TABLES = procedure_tables(
    "suspension", "suspension_threshold", "suspension_length", "suspension_graduating_year"
)
# How `suspension_threshold` measures missed class (its `measure` column).
MEASURES = ("none", "hours", "year_share", "term_share", "months")
# The months some reasons state on the form, for the tables that read them.
REASON_MONTHS = ("service_months", "treatment_months")
CHINESE_SHARES = {2: "二分之一", 3: "三分之一", 4: "四分之一", 5: "五分之一", 6: "六分之一"}


def asked_of(student: Student, data: dict) -> dict:
    """What the suspension tables are asked about this application."""
    return {
        "stage": student.stage,
        "reason": data["reason"],
        **{name: data.get(name) for name in REASON_MONTHS},
    }


def _mandatory(ctx: Context, asked: dict) -> dict | None:
    """The `suspension_mandatory` row when the school must order this suspension; None when
    it need not, or where no such table ships (the default)."""
    try:
        row = ctx.decide_first("suspension_mandatory", asked)
    except NoSuchTable:
        return None
    return row if row["mandatory"] else None


@dataclass
class SuspensionFacts:
    instance_id: int
    student: Student
    reason: str
    absence_hours: int
    year_hours: int | None
    term_hours: int | None  # the term's hours, which vocational schools count by (002 第十二条)
    start_date: date
    threshold: dict  # the `suspension_threshold` row for this stage and reason
    length: dict  # the `suspension_length` row
    graduating: dict  # the `suspension_graduating_year` row for this stage and term
    principal_signed: bool = False  # the principal and head teacher signed the application
    mandatory: dict | None = None  # the `suspension_mandatory` row, when the school must order it
    own_months: int = 0  # this instance's months so far, when it asks for an extension

    @property
    def stage(self) -> str:
        return self.student.stage

    @property
    def absence_months(self) -> int:
        """Months missed so far: from the first missed day (the start date) to today."""
        return whole_months(self.start_date, china_today())

    @property
    def threshold_message(self) -> str:
        t, minimum = self.threshold, self.threshold.get("minimum")
        if t["measure"] == "hours":
            need, have = f"缺课超过 {minimum} 课时", f"已填缺课 {self.absence_hours} 课时"
        elif t["measure"] == "year_share":
            need = f"缺课超过本学年总课时的{CHINESE_SHARES.get(minimum, f'1/{minimum}')}"
            have = f"已填缺课 {self.absence_hours} 课时，本学年总课时 {self.year_hours or '未填写'}"
        elif t["measure"] == "term_share":
            need = f"缺课超过本学期总课时的{CHINESE_SHARES.get(minimum, f'1/{minimum}')}"
            have = f"已填缺课 {self.absence_hours} 课时，本学期总课时 {self.term_hours or '未填写'}"
        else:
            need = f"连续缺课满 {minimum} 个月"
            have = f"自 {self.start_date} 起已缺课 {self.absence_months} 个月"
        return f"缺课未达到休学条件：{t['label']}须{need}（{have}）。"

    @property
    def in_graduating_year(self) -> bool:
        return self.student.grade in {int(g) for g in self.graduating["grades"]}

    @property
    def graduating_message(self) -> str:
        basis = self.graduating["basis"].rstrip("。")
        if self.graduating["by_signature"]:
            return (
                f"{basis}。该生在毕业年级（{self.student.grade} 年级）：须由校长、班主任在休学申请上"
                "签字，申请表勾选“校长、班主任已签字”并随证明材料上传签字页，再报教育局审批。"
            )
        return f"{basis}；该生在毕业年级（{self.student.grade} 年级），不能办理休学。"

    @property
    def taken_months(self) -> int:
        """Months already approved in the current stage: the student's earlier suspensions,
        and this one so far when it asks for an extension."""
        approved = db.session.query(StatusHistory.instance_id).filter(
            StatusHistory.student_id == self.student.id
        )
        earlier = Instance.query.filter(
            Instance.procedure == "suspension",
            Instance.id.in_(approved),
            Instance.id != self.instance_id,
        )
        return self.own_months + sum(
            suspended_months(i.data)
            for i in earlier
            if (i.data.get("check") or {}).get("stage") == self.stage
        )

    @property
    def total_message(self) -> str:
        limit, length = self.length["max_total_months"], self.length["length_months"]
        again = "续办休学" if self.own_months else "再次休学"
        return (
            f"该学生本学段已累计休学 {months_text(self.taken_months)}，再休学 "
            f"{months_text(length)} 将超过累计上限 {months_text(limit)}，不能{again}。"
        )


def suspension_facts(ctx: Context) -> SuspensionFacts:
    data = ctx.data
    student = db.session.get(Student, data["student_id"])
    asked = asked_of(student, data)
    threshold = ctx.decide_first("suspension_threshold", asked)
    if threshold.get("measure") not in MEASURES:
        raise ValueError(
            f"决策表 suspension_threshold 的 measure “{threshold.get('measure')}”无效"
            f"（可用：{'、'.join(MEASURES)}）"
        )
    return SuspensionFacts(
        instance_id=ctx.instance.id,
        student=student,
        reason=data["reason"],
        absence_hours=int(data["absence_hours"]),
        year_hours=data.get("year_hours"),
        term_hours=data.get("term_hours"),
        start_date=date.fromisoformat(str(data["start_date"])),
        threshold=threshold,
        length=ctx.decide_first("suspension_length", asked),
        mandatory=_mandatory(ctx, asked),
        graduating=ctx.decide_first(
            "suspension_graduating_year",
            {"stage": student.stage, "term": school_term(china_today())},
        ),
        principal_signed=bool(data.get("principal_signed")),
    )


SUSPENSION_RULES = RuleSet()


SUSPENSION_RULES.add(ENROLLED_STATUS)
SUSPENSION_RULES.add(NO_OPEN_PROCEDURE)
# A suspended student studies nowhere else (000 第十八条): the borrowing ends first.
SUSPENSION_RULES.add(NOT_BORROWING)


@SUSPENSION_RULES.rule(
    "graduating_year",
    "{f.graduating_message}",
    source="000 第十七条，第二部分 第十七条（各地区的规定见 suspension_graduating_year 表）",
)
def _graduating_year(f: SuspensionFacts) -> bool:
    """Not in the table's graduating grades, or where the table lets the principal's and head
    teacher's signatures through (the county's review is the bureau's approval), signed."""
    if not f.in_graduating_year:
        return True
    return bool(f.graduating["by_signature"]) and f.principal_signed


@SUSPENSION_RULES.rule(
    "absence_threshold",
    "{f.threshold_message}",
    source="000 第十六条，第二部分 第十六条；002 第十二条；003 篇2、篇10",
)
def _absence_threshold(f: SuspensionFacts) -> bool:
    """Missed class as the table measures it; none for a suspension the school must order."""
    measure, minimum = f.threshold["measure"], f.threshold["minimum"]
    if measure == "none" or f.mandatory is not None:
        return True
    if measure == "hours":
        return f.absence_hours > minimum
    if measure == "year_share":  # more than 1/minimum of the stated year's hours
        return bool(f.year_hours) and f.absence_hours * minimum > f.year_hours
    if measure == "term_share":  # more than 1/minimum of the stated term's hours
        return bool(f.term_hours) and f.absence_hours * minimum > f.term_hours
    return f.absence_months >= minimum


def _suspension_total(f: SuspensionFacts) -> bool:
    limit = f.length["max_total_months"]
    return limit is None or f.taken_months + f.length["length_months"] <= limit


SUSPENSION_TOTAL = SUSPENSION_RULES.add(
    Rule(
        "suspension_total",
        "{f.total_message}",
        _suspension_total,
        source="000 第二部分 第十八条；002 第十三条",
    )
)


@handler("suspension.check")
def check_suspension(ctx: Context) -> dict:
    """The rules; `senior` (the name the BPMN gateway reads) says whether the table withdraws
    a student who does not come back after the end date (senior high and vocational), and
    `mandatory` whether the school must order it (a variant's BPMN has the county file it)."""
    facts = suspension_facts(ctx)
    return SUSPENSION_RULES.first_failure(facts).result(
        stage=facts.stage,
        senior=facts.length["withdraw_after_months"] is not None,
        mandatory=facts.mandatory is not None,
        graduating_year=facts.in_graduating_year,  # let through on the signatures
    )


def period_end(end: date, length: dict) -> dict:
    """The end date and what the timers wait for: the end, and the automatic withdrawal
    (senior high) the table's months later."""
    grace = relativedelta(months=length["withdraw_after_months"] or 1)
    return {
        "end": end.isoformat(),
        "end_at": china_midnight(end),
        "withdraw_at": china_midnight(end + grace),
        "grace_months": grace.months + 12 * grace.years,
    }


@handler("suspension.finalize")
def finalize_suspension(ctx: Context) -> dict:
    """Status 休学 until the end of the table's length (default one year), a 休学证明 with a
    unique number; the student is let go.

    Going abroad counts from the approval, not from the first missed day (RULES.md §2).
    The instance stays open to wait for the end date, but other procedures (resumption,
    a transfer while suspended) may start from here on.
    """
    today = china_today()
    start = today if ctx.data["reason"] == "abroad" else date.fromisoformat(ctx.data["start_date"])
    student = db.session.get(Student, ctx.data["student_id"])
    length = ctx.decide_first("suspension_length", asked_of(student, ctx.data))
    end = start + relativedelta(months=length["length_months"])
    student, row = change_record(ctx, "suspension", {"status": "suspended", "suspended_until": end})
    number = f"XX{today.year}{student.school.code}{ctx.instance.id:06d}"
    if row is not None:
        issue_certificate(ctx, student, "休学证明", number)
    ctx.release_student()
    return {"start": start.isoformat(), **period_end(end, length), "certificate": number}


@handler("suspension.ended")
def suspension_ended(ctx: Context) -> dict:
    """At the end date: has the student come back, and which school is to be reminded."""
    student = db.session.get(Student, ctx.data["student_id"])
    return {"resumed": resumed(ctx), "school_id": student.school_id}


@handler("suspension.withdraw")
def withdraw_after_suspension(ctx: Context) -> dict:
    """Senior high, a month after the end date, neither resumed nor an extension asked
    (pending, or approved: the end date moved on): start a withdrawal (⑦ 第二十一条)."""
    if resumed(ctx):
        return {"started": None}
    student = db.session.get(Student, ctx.data["student_id"])
    end = ctx.data["suspension"]["end"]
    extended = student.suspended_until != date.fromisoformat(end)
    if extended or ctx.instance.open_student_id == student.id:
        return {"started": None, "message": "已申请续办休学，不自动退学。"}
    if Instance.query.filter_by(open_student_id=student.id).first():
        return {"started": None, "message": "该学生已有正在办理的学籍业务，未自动发起退学。"}
    grace = ctx.data["suspension"].get("grace_months", 1)
    withdrawal = ctx.start_procedure(
        "withdrawal",
        student,
        {
            "reason": "suspension_not_resumed",
            "note": f"休学于 {end} 期满，{months_text(grace)}内未申请复学或续办休学"
            "（⑦ 第二十一条）。",
            "evidence": [],
            "suspension_instance_id": ctx.instance.id,
        },
        f"休学期满{months_text(grace)}未申请复学",
    )
    return {"started": withdrawal}
