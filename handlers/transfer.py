"""Transfer (转学): the automatic rule checks and the final step that moves the record.

Rules: RULES.md §1 and the default rule set table (Jiangsu/Taizhou, seed 000). The
receiving school is usually named at the start; where a region's diagram says so, the
receiving county names it later (placement, shandong) or the student leaves the region
(转至市外, yuhong), and the rules about the receiving school wait for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta

from forms.student_fields import county_part
from webapp.models import Organization, Student, china_midnight, china_today, db

from . import Context, handler
from .records import change_record
from .rules import Rule, RuleSet, Verdict
from .school_rules import (
    ACTIVE_STATUS,
    CLASS_CAPS,
    GRADUATING_YEAR,
    NO_OPEN_PROCEDURE,
    NOT_BORROWING,
    class_has_room,
    graduating_grades,
    offers_stage,
)

RULES = RuleSet()
RULES.add(ACTIVE_STATUS)
RULES.add(NO_OPEN_PROCEDURE)


@dataclass
class TransferFacts:
    instance_id: int
    student: Student
    from_school: Organization
    to_school: Organization | None  # None until a county places the student, or off the platform
    placing_county: Organization | None  # the receiving county that places the student
    placed_code: str | None  # the school code that county chose
    to_grade: int
    to_class_name: str | None
    window: dict  # the `transfer_window` row for today (a region may limit when it transfers)
    graduating_grades: frozenset[int]  # the `transfer_graduating_year` row

    @property
    def stage(self) -> str:
        return self.student.stage

    @property
    def cap(self) -> int:
        return CLASS_CAPS[self.student.stage]

    @property
    def from_county(self) -> Organization | None:
        return self.from_school.ancestor("county")

    @property
    def to_county(self) -> Organization | None:
        return self.to_school.ancestor("county") if self.to_school else self.placing_county

    @property
    def same_county(self) -> bool:
        return self.from_county is not None and self.from_county == self.to_county

    @property
    def same_city(self) -> bool:
        from_city = self.from_school.ancestor("city")
        to_side = self.to_county
        return (
            from_city is not None and to_side is not None and from_city == to_side.ancestor("city")
        )

    @property
    def leaves_region(self) -> bool:
        return self.to_school is None and self.placing_county is None


def school_rule(name: str, message: str, source: str = ""):
    """A rule about the receiving school: it holds while no school is named yet (the
    check runs again once the county has placed the student)."""

    def register(fn):
        RULES.add(Rule(name, message, lambda f: f.to_school is None or fn(f), source))
        return fn

    return register


@RULES.rule(
    "placed_in_county",
    "安置学校代码 {f.placed_code} 不存在，或不是{f.placing_county.name}的学校。",
    source="000 ⑦ 第十二条",
)
def _placed_in_county(f: TransferFacts) -> bool:
    return f.placed_code is None or (
        f.to_school is not None and f.to_school.ancestor("county") == f.placing_county
    )


@school_rule(
    "same_school",
    "转入学校与学生现就读学校相同，无需转学。",
    source="平台规则：转学须转入另一所学校（000 第九条）",
)
def _not_same_school(f: TransferFacts) -> bool:
    return f.from_school.id != f.to_school.id


@RULES.rule(
    "grade_unchanged",
    "转学不得改变年级：学生现为 {f.student.grade} 年级，申请转入 {f.to_grade} 年级。",
    source="000 第十一条，第二部分 第九条；000 ⑦ 第十条",
)
def _grade_unchanged(f: TransferFacts) -> bool:
    return f.to_grade == f.student.grade


RULES.add(GRADUATING_YEAR)


@RULES.rule(
    "transfer_window", "{f.window[reason]}", source="002 第十条、第十一条；003 篇10（变体）"
)
def _transfer_window(f: TransferFacts) -> bool:
    return bool(f.window.get("open"))


RULES.add(NOT_BORROWING)  # the borrowing ends (借读结束) before the record moves


@school_rule(
    "senior_vocational",
    "普通高中与中等职业学校之间不得互相转学。",
    source="000 第二部分 §转学 说明1",
)
def _senior_vocational(f: TransferFacts) -> bool:
    if f.stage == "senior":
        return offers_stage(f.to_school, "senior") or not offers_stage(f.to_school, "vocational")
    if f.stage == "vocational":
        return offers_stage(f.to_school, "vocational") or not offers_stage(f.to_school, "senior")
    return True


@school_rule(
    "stage_offered", "转入学校不设该学生所在学段。", source="平台规则：转入学校须开设该学段"
)
def _stage_offered(f: TransferFacts) -> bool:
    return offers_stage(f.to_school, f.stage)


@RULES.rule(
    "within_county",
    "初中、高中学生不得在本县（区）内转学。",
    source="000 第九条；000 第二部分 §转学 说明1；000 ⑦ 第十条",
)
def _within_county(f: TransferFacts) -> bool:
    return f.stage not in ("junior", "senior") or not f.same_county


@school_rule(
    "private_to_public",
    "民办学校学生转入公办学校：义务教育阶段只能转入户籍所在县（区），高中阶段不得转入。",
    source="000 §转学 说明1；000 第二部分 §转学 说明1",
)
def _private_to_public(f: TransferFacts) -> bool:
    if f.from_school.ownership != "private" or f.to_school.ownership != "public":
        return True
    if f.stage in ("senior", "vocational"):
        return False
    household = county_part(f.student.household_code)
    return f.to_county is not None and household == county_part(f.to_county.code)


@school_rule(
    "star_rule",
    "三星级及以下普通高中的学生不得转入四星级普通高中（000 第二部分 说明1）。",
)
def _star_rule(f: TransferFacts) -> bool:
    """Four-star general high schools only (000 第二部分 说明1; RULES.md additions): a
    primary or junior move between rated schools is not refused."""
    return not (
        f.stage == "senior"
        and f.from_school.star is not None
        and f.from_school.star <= 3
        and f.to_school.star is not None
        and f.to_school.star >= 4
    )


CLASS_SIZE_CAP = "class_size_cap"
CLASS_SIZE_MESSAGE = (
    "转入班级 {f.to_class_name} 已达班额上限（{f.cap} 人，000 ⑦ 第八条），不能再转入。"
)


@school_rule(CLASS_SIZE_CAP, CLASS_SIZE_MESSAGE)
def _class_size_cap(f: TransferFacts) -> bool:
    return class_has_room(f.student, f.to_school.id, f.student.grade, f.to_class_name)


# Right before the record moves (RULES.md additions, "Class placement"): the receiving side
# has named the class, and the class still has room, whatever moved in while the reviewers
# decided. The other rules were settled at the start (and a suspended student's record may
# move, T9).
PLACEMENT_RULES = RuleSet()
PLACEMENT_RULES.add(ACTIVE_STATUS)


@PLACEMENT_RULES.rule(
    "class_named",
    "学籍转移前须由转入方编定班级（000 ⑦ 第八条 班额；转入学校确认接收时写明班级），"
    "本次转学未写明转入班级。",
)
def _class_named(f: TransferFacts) -> bool:
    return bool(f.to_class_name)


PLACEMENT_RULES.add(Rule(CLASS_SIZE_CAP, CLASS_SIZE_MESSAGE, _class_size_cap))


def _facts(ctx: Context) -> TransferFacts:
    data = ctx.data
    student = db.session.get(Student, data["student_id"])
    county_id = data.get("to_county_id")
    placing = db.session.get(Organization, county_id) if county_id else None
    placed_code = (data.get("to_school_code") or None) if placing else None
    if placed_code:  # the county's placement (or, until it places, the school first named)
        to_school = Organization.query.filter_by(code=placed_code, level="school").first()
    elif data.get("to_school_id"):
        to_school = db.session.get(Organization, data["to_school_id"])
    else:
        to_school = None
    return TransferFacts(
        instance_id=ctx.instance.id,
        student=student,
        from_school=db.session.get(Organization, data["from_school_id"]),
        to_school=to_school,
        placing_county=placing,
        placed_code=placed_code,
        to_grade=int(data["to_grade"]),
        to_class_name=data.get("to_class_name") or None,
        window=_window(ctx, student),
        graduating_grades=graduating_grades(ctx, student.stage),
    )


def _terms_studied(student: Student, today: date) -> int:
    """Terms begun since the student entered (terms start on 1 September and 1 March)."""
    starts = [date(y, m, 1) for y in range(student.entry_year, today.year + 1) for m in (3, 9)]
    return sum(1 for s in starts if date(student.entry_year, 9, 1) < s <= today)


def _window(ctx: Context, student: Student) -> dict:
    """Whether a transfer may be handled today, from the version's `transfer_window` table
    (the shipped default's, open all year, for a version deployed without one)."""
    today = china_today()
    facts = {
        "stage": student.stage,
        "month": today.month,
        "day": today.day,
        "terms_studied": _terms_studied(student, today),
    }
    first = next(iter(ctx.decide("transfer_window", facts)), None)  # hit policy FIRST
    return first or {"open": True, "reason": ""}


@handler("transfer.check")
def check(ctx: Context) -> dict:
    """Run every transfer rule; report the first that fails and the routing facts."""
    facts = _facts(ctx)
    high_school = facts.stage in ("senior", "vocational")
    return RULES.first_failure(facts).result(
        stage=facts.stage,  # routing facts a regional variant's gateways may read
        same_county=facts.same_county,
        same_city=facts.same_city,
        needs_city=(high_school and not facts.same_county) or not facts.same_city,
        # read by shandong diagrams deployed before every compulsory move passed the county
        placing=facts.to_school is None and facts.placing_county is not None,
        leaves_region=facts.leaves_region,
        to_school_id=facts.to_school.id if facts.to_school else None,
    )


@handler("transfer.recheck")
def recheck(ctx: Context) -> dict:
    """Right before the move: the class is named and still has room (a failure ends the
    transfer naming the rule)."""
    facts = _facts(ctx)
    if facts.to_school is None:
        raise ValueError("转学的学籍转移前复核须在转入学校确定之后")
    return PLACEMENT_RULES.first_failure(facts).result(to_school_id=facts.to_school.id)


@handler("transfer.move")
def move(ctx: Context) -> dict:
    """Move the record to the receiving school, once, with a history row; notify both schools."""
    facts = _facts(ctx)
    changes = {"school_id": facts.to_school.id, "class_name": facts.to_class_name}
    _, row = change_record(ctx, "transfer", changes, (facts.from_school.id,))
    if ctx.instance.partner_school_id != facts.to_school.id:  # placed by the county: the
        ctx.name_partner_school(facts.to_school.id)  # school it chose now sees the instance
    return {"moved": True, "history_id": row.id if row else None}


@handler("transfer.leave_region")
def leave_region(ctx: Context) -> dict:
    """The student moves off the platform (转至市外, 003 篇2 第九条): the record here closes
    (status 注销), and the history row says where the student went."""
    destination = ctx.data["destination"]
    _, row = change_record(
        ctx, "transfer", {"status": "cancelled"}, noted={"left_for": f"转至市外：{destination}"}
    )
    return {"left": True, "history_id": row.id if row else None}


@handler("transfer.issue_papers", tables=("transfer_papers",))
def issue_papers(ctx: Context) -> dict:
    """The sending school's consent is its 转学证明; a region may limit how long it is valid
    (zhushan: three months, its `transfer_papers` table). The BPMN's timers wait for
    `expire_at`."""
    student = db.session.get(Student, ctx.data["student_id"])
    rows = ctx.decide("transfer_papers", {"stage": student.stage})  # hit policy FIRST
    if not rows:
        raise ValueError(f"决策表 transfer_papers 没有适用于学段 {student.stage} 的规则")
    issued = china_today()
    expires = issued + relativedelta(months=int(rows[0]["valid_months"]))
    return {"issued_on": issued.isoformat(), "expire_at": china_midnight(expires)}


@handler("transfer.papers_expired")
def papers_expired(ctx: Context) -> dict:
    """Ends a transfer whose papers expired before the last approval, naming the rule."""
    papers = ctx.data["papers"]
    message = (
        f"转学证明于 {papers['issued_on']} 开出，已于 {papers['expire_at'][:10]} 过期作废，"
        "本次转学终止；如仍需转学，请重新申请。"
    )
    return Verdict(False, "papers_expired", message).result()
