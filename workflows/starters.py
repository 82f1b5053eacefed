"""How each procedure is started: validate the start data and find the student and schools.

A procedure started by the *other* side (the receiving school of a transfer) names the
student by ID number and name, which must both match an active record exactly; such starts
are counted and refused alike whatever the reason (`workflows.identity`).
"""

from __future__ import annotations

from dataclasses import dataclass

from marshmallow import ValidationError

from forms import FORMS
from forms.repeat_grade import check_one_grade_down
from forms.transfer import CLASS_NEEDED_AT_START as CLASS_NEEDED
from webapp.models import ACTIVE_STATUSES, ROLE_LABELS, Instance, Organization, Student
from webapp.models.vocabulary import PROCEDURES

from . import deploy, identity, jurisdiction, variants
from .errors import Conflict, Forbidden, Invalid, NotFound
from .specs import start_slot, steps_used


@dataclass
class StartPlan:
    student: Student | None  # None for a cohort procedure: it acts on many students
    data: dict
    school_id: int  # the student's school, or the cohort's
    partner_school_id: int | None = None
    # A two-sided procedure runs the receiving side's variant, or the sending side's where
    # that side's rules decide how it starts (see `_start_transfer`).
    sending_rules: bool = False
    by_identity: bool = False  # the student was named by ID number and name


def prepare(procedure: str, user, data: dict, student_id: int | None = None) -> StartPlan:
    proc = PROCEDURES.get(procedure)
    if proc is None:
        raise Invalid(f"未知的业务类型：{procedure}", {"procedure": ["未知的业务类型。"]})
    if user.role != proc.starter_role:
        raise Forbidden(f"只有{_role_name(proc.starter_role)}可以发起{proc.name}。")
    try:
        clean = FORMS[proc.start_form].load(data or {})
    except ValidationError as exc:
        raise Invalid.from_marshmallow(exc.messages) from exc
    return STARTERS[procedure](user, clean, student_id)


def may_start_for(user, procedure: str, student: Student) -> bool:
    """Whether `user` may start this one-sided procedure for a student in its reach.

    A host school reaches its borrowing students, but only to end the borrowing.
    """
    proc = PROCEDURES[procedure]
    if proc.two_sided or proc.starter_role != user.role:
        return False
    if procedure == "borrow_return":
        return student.borrow_host_id is not None
    return jurisdiction.holds_status(user, student)


def _role_name(role: str) -> str:
    return ROLE_LABELS.get(role, role)


def find_by_identity(user, id_number: str, name: str) -> Student:
    """The active record with this ID number and exactly this name, or the one refusal;
    every lookup spends one of the organisation's starts by identity."""
    identity.take_budget(user.org_id)
    student = Student.query.filter(
        Student.id_number == id_number, Student.status.in_(ACTIVE_STATUSES)
    ).first()
    if student is None or student.name != name:
        raise identity.refused()
    return student


def _callers_school(user, code: str, field: str, side: str, procedure: str) -> Organization:
    """The school named by `code`, which must be the caller's own: that side starts it."""
    school = Organization.query.filter_by(code=code, level="school").first()
    if school is None:
        raise Invalid(f"{side}代码不存在。", {field: [f"{side}代码不存在。"]})
    if school.id != user.org_id:
        raise Invalid(
            f"{procedure}须由{side}发起：{side}代码必须是本校。",
            {field: [f"{procedure}须由{side}发起，{side}代码必须是本校代码。"]},
        )
    return school


@dataclass(frozen=True)
class TransferStart:
    """How a region starts a transfer, read from its transfer diagram."""

    sending: bool  # the sending school starts (its start event sits in `from_school`, yuhong)
    places: bool  # the receiving county places compulsory students (a `transfer_place` step)
    leaves_region: bool  # a student may leave for a place off the platform (转至市外)


def transfer_start(org: Organization) -> TransferStart:
    """How a transfer starts under the variant `org` runs."""
    version = deploy.latest("transfer", variants.variant_for(org))
    if version is None:
        return TransferStart(False, False, False)
    used = steps_used(version.bpmn_xml, version.segments)
    return TransferStart(
        sending=start_slot(version.bpmn_xml) == "from_school",
        places="transfer_place" in used,
        leaves_region="transfer.leave_region" in used,
    )


def _start_transfer(user, clean: dict, student_id: int | None) -> StartPlan:
    """Who starts follows the caller's region. A school whose region has the sending school
    start may still take in a student from a region where the receiving school starts: that
    move runs the sending region's rules (else neither school could start it)."""
    start = transfer_start(user.org)
    if not start.sending:
        return _start_transfer_from_receiving_school(user, clean)
    student = find_by_identity(user, clean["id_number"], clean["name"])
    if student.school_id != user.org_id and not transfer_start(student.school).sending:
        plan = _start_transfer_from_receiving_school(user, clean, student)
        plan.sending_rules = True
        return plan
    return _start_transfer_from_sending_school(user, clean, start, student)


def _start_transfer_from_receiving_school(
    user, clean: dict, student: Student | None = None
) -> StartPlan:
    if not clean["to_school_code"]:
        raise Invalid("请填写转入学校代码。", {"to_school_code": ["请填写转入学校代码。"]})
    if not clean["to_class_name"].strip():  # the receiving school places the student
        raise Invalid(CLASS_NEEDED, {"to_class_name": [CLASS_NEEDED]})
    return _start_taking_side(user, clean, "to_school_code", "转入学校", "转学", student)


def _start_transfer_from_sending_school(
    user, clean: dict, start: TransferStart, student: Student
) -> StartPlan:
    """The sending school names its own student and where the student goes: a school (and
    class); or, where its region says so, the county that places the student or a place
    outside the region."""
    if student.school_id != user.org_id:  # another school's pupil: as if not found
        raise identity.refused()
    data = {
        **clean,
        "student_id": student.id,
        "student_name": student.name,
        "from_school_id": student.school_id,
    }
    named = [k for k in ("to_school_code", "to_county_code", "destination") if clean[k]]
    if len(named) != 1:
        raise Invalid(_destination_hint(start), {"to_school_code": [_destination_hint(start)]})
    if clean["to_school_code"]:
        to_school = Organization.query.filter_by(
            code=clean["to_school_code"], level="school"
        ).first()
        if to_school is None:
            raise Invalid("转入学校代码不存在。", {"to_school_code": ["转入学校代码不存在。"]})
        data["to_school_id"] = to_school.id
        if start.places and student.stage in ("primary", "junior"):
            # The receiving county still agrees and places (000 ⑦ 第十二条): the school named
            # here is a proposal the county confirms or replaces.
            data["to_county_id"] = to_school.ancestor("county").id
        return StartPlan(student, data, student.school_id, to_school.id, sending_rules=True)
    if clean["to_county_code"]:
        data["to_county_id"] = _placing_county(clean["to_county_code"], student, start).id
    elif not start.leaves_region:
        raise Invalid(
            "本地区转学须写明转入学校，不办理转至市外。",
            {"destination": ["本地区转学须写明转入学校，不办理转至市外。"]},
        )
    return StartPlan(student, data, student.school_id, sending_rules=True)


def _destination_hint(start: TransferStart) -> str:
    choices = ["转入学校代码"]
    if start.places:
        choices.append("转入县（区）代码（义务教育阶段由转入地教育局安置）")
    if start.leaves_region:
        choices.append("转出至的省或市（转至市外）")
    return "请填写且只填写一项：" + "，或".join(choices) + "。"


def _placing_county(code: str, student: Student, start: TransferStart) -> Organization:
    """The county that will place the student: only compulsory students are placed
    (000 ⑦ 第十二条), and only where the region's diagram has a placement step."""
    if not start.places:
        raise Invalid(
            "本地区转学须写明转入学校。", {"to_county_code": ["本地区转学须写明转入学校代码。"]}
        )
    if student.stage not in ("primary", "junior"):
        message = "只有义务教育阶段的学生由转入地教育局安置；高中阶段请写明转入学校代码。"
        raise Invalid(message, {"to_county_code": [message]})
    county = Organization.query.filter_by(code=code, level="county").first()
    if county is None:
        raise Invalid("转入县（区）代码不存在。", {"to_county_code": ["转入县（区）代码不存在。"]})
    return county


def _start_own_student(user, clean: dict, student_id: int | None) -> StartPlan:
    """One-sided procedures: the student's own school starts them for a student in its reach."""
    student = jurisdiction.student_or_none(user, student_id) if student_id is not None else None
    if student is None:
        raise NotFound("学生不存在或不在您的管辖范围内。")
    if not jurisdiction.holds_status(user, student):
        raise Forbidden(
            f"该学生在本校借读，学籍在{student.school.name}：此业务须由学籍所在学校办理。"
        )
    data = {
        **clean,
        "student_id": student.id,
        "student_name": student.name,
        "school_id": student.school_id,
    }
    return StartPlan(student, data, student.school_id)


def _start_repeat_grade(user, clean: dict, student_id: int | None) -> StartPlan:
    """As any one-sided procedure; the grade asked must be exactly one below the student's."""
    plan = _start_own_student(user, clean, student_id)
    try:
        check_one_grade_down(plan.student.grade, clean["to_grade"])
    except ValidationError as exc:
        raise Invalid.from_marshmallow(exc.messages) from exc
    return plan


def _start_borrow(user, clean: dict, student_id: int | None) -> StartPlan:
    """The host school enters a borrow-study for another school's student (RULES.md §3)."""
    return _start_taking_side(user, clean, "host_school_code", "借读学校", "借读")


def _start_taking_side(
    user, clean: dict, field: str, side: str, procedure: str, student: Student | None = None
) -> StartPlan:
    """The school that takes the student in (its own code in `field`) names a student of
    another school by ID number and name; `student` when already found."""
    taking = _callers_school(user, clean[field], field, side, procedure)
    student = student or find_by_identity(user, clean["id_number"], clean["name"])
    data = {
        **clean,
        "student_id": student.id,
        "student_name": student.name,
        "from_school_id": student.school_id,
        "to_school_id": taking.id,
    }
    return StartPlan(student, data, student.school_id, taking.id, by_identity=True)


def _start_borrow_return(user, clean: dict, student_id: int | None) -> StartPlan:
    """Either school of a borrowing student ends it; `initiator_side` routes the confirmation."""
    student = jurisdiction.student_or_none(user, student_id) if student_id is not None else None
    if student is None:
        raise NotFound("学生不存在或不在您的管辖范围内。")
    if user.org_id == student.school_id:
        side = "home"
    elif student.borrow_host_id is not None and user.org_id == student.borrow_host_id:
        side = "host"
    else:
        raise Forbidden("借读结束须由学籍所在学校或借读学校发起。")
    data = {
        **clean,
        "student_id": student.id,
        "student_name": student.name,
        "from_school_id": student.school_id,
        "to_school_id": student.borrow_host_id,
        "initiator_side": side,
    }
    return StartPlan(student, data, student.school_id, student.borrow_host_id)


def _cohort_starter(procedure: str):
    """A school submits one of its own cohorts; one open instance per cohort at a time."""

    def start(user, clean: dict, student_id: int | None) -> StartPlan:
        school = _callers_school(user, clean["school_code"], "school_code", "学校", "名册")
        running = Instance.query.filter_by(
            procedure=procedure, school_id=school.id, status="running"
        )
        if any(i.data.get("entry_year") == clean["entry_year"] for i in running):
            raise Conflict(
                f"{school.name} {clean['entry_year']} 级已有正在办理的{PROCEDURES[procedure].name}，"
                "须办结后再提交。"
            )
        return StartPlan(None, {**clean, "school_id": school.id}, school.id)

    return start


STARTERS = {
    "transfer": _start_transfer,
    "graduation": _cohort_starter("graduation"),
    "suspension": _start_own_student,
    "resumption": _start_own_student,
    "borrow": _start_borrow,
    "borrow_return": _start_borrow_return,
    "withdrawal": _start_own_student,
    "cancellation": _start_own_student,
    "skip_grade": _start_own_student,
    "repeat_grade": _start_repeat_grade,
    "certificate_exchange": _start_own_student,
    "info_change": _start_own_student,
    "registration": _cohort_starter("registration"),
}
