"""Finding work: the filters of the inbox, 业务查询 and the student list, shared by the
pages, the API and the exports (an export takes the page's filtered query).

Every filter narrows a query that is already the caller's jurisdiction, through an index:
the inbox through (org_id, role, state, due_at), a student by the search indexes of
`search.py`, 业务查询's dates through instance.created_at. A school code outside the
caller's reach filters to nothing, as an unknown code does: the answer does not tell
whether the school exists elsewhere.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from sqlalchemy import false, func, or_

from webapp.models import CHINA, STATUSES, HumanTask, Instance, Organization, Student, utcnow
from webapp.models.vocabulary import PROCEDURES
from workflows import jurisdiction

from .search import students_matching

TASK_SORTS = ("due", "-due", "created", "-created")
INSTANCE_STATUSES = ("running", "completed", "rejected", "cancelled", "error")
_FIRST_DAY, _LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)
_DAY_ERROR = "须为 1900-01-01 到 2999-12-31 之间、格式为 YYYY-MM-DD 的日期。"


def _day(label: str) -> fields.Date:
    return fields.Date(
        validate=validate.Range(min=_FIRST_DAY, max=_LAST_DAY, error=label + _DAY_ERROR),
        error_messages={"invalid": label + _DAY_ERROR},
        metadata={"description": f"{label}（YYYY-MM-DD，北京时间）"},
    )


def _text(label: str, longest: int, description: str) -> fields.String:
    return fields.String(
        validate=validate.Length(max=longest, error=f"{label}不能超过 {longest} 个字。"),
        metadata={"description": description},
    )


class Filters(Schema):
    """A list's filters from a query string; unrelated parameters (page, format) pass."""

    class Meta:
        unknown = EXCLUDE


class _ProcedureSchool(Filters):
    procedure = fields.String(
        validate=validate.OneOf(tuple(PROCEDURES), error="业务类型不存在。"),
        metadata={"description": "业务类型"},
    )
    q = _text("学生", 64, "学生的身份证号或姓名（开头、结尾或其中一部分）")
    school = _text("学校代码", 32, "学校代码（本单位管辖范围内的学校；范围外的代码查不到任何结果）")


class TaskFilters(_ProcedureSchool):
    step = _text("当前步骤", 64, "步骤（流程图中的步骤 id，见待办的 step）")
    due_before = _day("办理期限")
    overdue = fields.Boolean(
        truthy={"1", "true"},
        falsy={"0", "false"},
        error_messages={"invalid": "只看已逾期须为 1 或 0。"},
        metadata={"description": "1：只看已逾期的任务"},
    )
    claimed = fields.String(
        validate=validate.OneOf(
            ("me", "none"), error="认领情况须为 me（我认领的）或 none（未认领）。"
        ),
        metadata={"description": "me：我认领的；none：未认领的"},
    )
    sort = fields.String(
        load_default="due",
        validate=validate.OneOf(TASK_SORTS, error="排序须为 due、-due、created 或 -created 之一。"),
        metadata={
            "description": "due（默认）：最紧急的在前（已逾期的在前，无期限的在后）；"
            "-due：期限最晚的在前（无期限的在前）；created / -created：按到达时间"
        },
    )


class InstanceFilters(_ProcedureSchool):
    status = fields.String(
        validate=validate.OneOf(
            INSTANCE_STATUSES,
            error="状态必须是 running、completed、rejected、cancelled 或 error 之一。",
        ),
    )
    since = _day("发起日期起")
    until = _day("发起日期止")


class StudentFilters(Filters):
    q = fields.String(
        load_default="",
        validate=validate.Length(max=64, error="查找内容不能超过 64 个字。"),
        metadata={"description": "身份证号或学籍号的开头，或姓名的一部分"},
    )
    grade = fields.Integer(
        validate=validate.Range(min=1, max=12, error="年级须为 1 到 12 之间的整数。"),
        error_messages={"invalid": "年级须为 1 到 12 之间的整数。"},
        metadata={"description": "年级（1–12，从小学一年级数起）"},
    )
    class_name = _text("班级", 32, "班级（与学籍中的班级名称完全一致）")
    status = fields.String(
        validate=validate.OneOf(STATUSES, error="学籍状态不存在。"),
        metadata={"description": "学籍状态"},
    )


class BadFilter(ValidationError):
    """A page's filter with a value it does not take; answered once for every page
    (`views_common`: 400, each refusal in Chinese, the message naming the field)."""

    @property
    def text(self) -> str:
        messages = self.normalized_messages()
        return " ".join(m for v in messages.values() for m in (v if isinstance(v, list) else [v]))


def load(schema: type[Filters], args) -> dict:
    """The filters of a query string, blanks left out (an emptied form field means "all");
    a bad value raises BadFilter with a Chinese message under its field."""
    try:
        return schema().load({k: v for k, v in args.items() if v.strip()})
    except ValidationError as exc:
        raise BadFilter(exc.messages) from exc


def _china_start(day: date) -> datetime:
    """The start of a China day as the UTC time the database keeps."""
    return datetime.combine(day, time.min, tzinfo=CHINA).astimezone(UTC).replace(tzinfo=None)


def _school_clause(user, code: str, *columns):
    """Rows whose school (on either side) is the school of `code`, if it is in reach."""
    org_id = Organization.query.with_entities(Organization.id).filter_by(code=code).scalar()
    reach = jurisdiction.org_ids_in_reach(user)
    if org_id is None or (reach is not None and org_id not in reach):
        return false()
    return or_(*(column == org_id for column in columns))


def _of_student(query, q: str):
    """Narrow a query joined to Instance to the instances of the students `q` finds."""
    return students_matching(query.join(Student, Student.id == Instance.student_id), q)


def _procedure_school_student(query, user, args: dict):
    if "procedure" in args:
        query = query.filter(Instance.procedure == args["procedure"])
    if args.get("school"):
        query = query.filter(
            _school_clause(user, args["school"], Instance.school_id, Instance.partner_school_id)
        )
    if args.get("q", "").strip():
        query = _of_student(query, args["q"])
    return query


def tasks(user, args: dict):
    """The user's open tasks that the filters keep, in the chosen order."""
    query = jurisdiction.inbox(user)
    if any(args.get(k) for k in ("procedure", "school", "q")):
        query = _procedure_school_student(
            query.join(Instance, Instance.id == HumanTask.instance_id), user, args
        )
    if args.get("step"):
        query = query.filter(HumanTask.step == args["step"])
    if "due_before" in args:  # due on that China day or earlier
        query = query.filter(HumanTask.due_at < _china_start(args["due_before"] + timedelta(1)))
    if args.get("overdue"):
        query = query.filter(HumanTask.due_at < utcnow())
    if args.get("claimed") == "me":
        query = query.filter(HumanTask.claimed_by_id == user.id)
    elif args.get("claimed") == "none":
        query = query.filter(HumanTask.claimed_by_id.is_(None))
    return query.order_by(*_TASK_ORDER[args.get("sort", "due")])


# Most urgent first: the earliest due date is the longest overdue; no due date comes last.
# The reverse is the same index read backwards, so no due date comes first there.
_TASK_ORDER = {
    "due": (HumanTask.due_at.asc().nulls_last(), HumanTask.id),
    "-due": (HumanTask.due_at.desc().nulls_first(), HumanTask.id.desc()),
    "created": (HumanTask.created_at, HumanTask.id),
    "-created": (HumanTask.created_at.desc(), HumanTask.id.desc()),
}


def inbox_steps(user) -> list[tuple[str, str, str, int]]:
    """(procedure, step, step name, open tasks) over the user's inbox: one GROUP BY,
    bounded by the inbox, for the counts per procedure and the step filter's choices."""
    rows = (
        jurisdiction.inbox(user)
        .join(Instance, Instance.id == HumanTask.instance_id)
        .with_entities(Instance.procedure, HumanTask.step, HumanTask.name, func.count())
        .group_by(Instance.procedure, HumanTask.step, HumanTask.name)
        .order_by(Instance.procedure, HumanTask.step)
        .all()
    )
    return [tuple(row) for row in rows]


def procedure_counts(steps: list[tuple[str, str, str, int]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for procedure, _step, _name, n in steps:
        counts[procedure] = counts.get(procedure, 0) + n
    return counts


def instances(user, args: dict):
    """The instances in reach that the filters keep (unordered: the list orders them)."""
    query = _procedure_school_student(jurisdiction.instances(user), user, args)
    if "status" in args:
        query = query.filter(Instance.status == args["status"])
    if "since" in args:
        query = query.filter(Instance.created_at >= _china_start(args["since"]))
    if "until" in args:
        query = query.filter(Instance.created_at < _china_start(args["until"] + timedelta(1)))
    return query


def students(user, args: dict):
    """The records in reach that the search and the filters keep."""
    query = students_matching(jurisdiction.students(user), args.get("q", ""))
    if "grade" in args:
        query = query.filter(Student.grade == args["grade"])
    if args.get("class_name"):
        query = query.filter(Student.class_name == args["class_name"])
    if "status" in args:
        query = query.filter(Student.status == args["status"])
    return query


def export_filters(args: dict) -> dict:
    """The filters as the export's audit entry keeps them: no paging, dates as text."""
    return {
        k: v.isoformat() if isinstance(v, date) else v
        for k, v in args.items()
        if k not in ("page", "per_page")
    }
