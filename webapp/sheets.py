"""What each list's file says: its Chinese headers and one row per record, the same for the
page's export link, the JSON API's `format=` and the command line. The rows come from the
list's own scoped query, read in chunks (`exports.in_chunks`) with what the columns show
loaded once per chunk.

Students have three layouts: a display list (Chinese headers), the national template
(学生信息导入模板) and this platform's import columns (`xueji import students` reads it
back); the last two are the one table in forms/student_fields.py.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy.orm import defer, joinedload, selectinload

from forms.student_fields import (
    NATIONAL_HEADERS,
    XUEJI_COLUMNS,
    record_to_national,
    record_to_xueji,
)
from webapp.models.vocabulary import procedure_name
from workflows.identity import hidden_orgs

from . import lists
from .exports import BadFormat, Sheet, in_chunks, local_time
from .models import AuditLog, HumanTask, Instance, RosterEntry, Student, utcnow
from .views_common import GENDER_LABELS, HIDDEN_ORG, INSTANCE_STATUS_LABELS, grade_label

# What a student row shows: its school and borrowing host (no history, no certificates).
STUDENT_EXPORT_ROWS = (joinedload(Student.school), joinedload(Student.borrow_host))

STUDENT_HEADERS = (
    "姓名",
    "性别",
    "出生日期",
    "民族",
    "身份证件类型",
    "身份证件号",
    "学籍号",
    "学校代码",
    "学校名称",
    "年级",
    "班级",
    "班号",
    "入学年份",
    "学籍状态",
    "户口所在地行政区划",
    "监护人",
    "监护人电话",
    "联系电话",
    "借读学校",
)


def _students(query, *options) -> Iterator[Student]:
    query = query.options(*STUDENT_EXPORT_ROWS, *options).order_by(Student.id)
    for chunk in in_chunks(query):
        yield from chunk


# ?format= of a student list (the page's export link, the API): the file's format and the
# layout; national is the national template's layout, as .xlsx.
STUDENT_FORMATS = {
    "xlsx": ("xlsx", "display"),
    "csv": ("csv", "display"),
    "national": ("xlsx", "national"),
}


def student_format(asked: str) -> tuple[str, str]:
    """The file format and layout a student list's ?format= asks for (BadFormat otherwise)."""
    if asked not in STUDENT_FORMATS:
        raise BadFormat(tuple(STUDENT_FORMATS))
    return STUDENT_FORMATS[asked]


def students(query, layout: str = "display") -> Sheet:
    """The students of `query` (already scoped and filtered) in `layout`: display, national
    or xueji."""
    if layout == "national":
        rows = (list(record_to_national(s).values()) for s in _students(query))
        return Sheet("学生信息", NATIONAL_HEADERS, rows)
    if layout == "xueji":
        rows = (list(record_to_xueji(s).values()) for s in _students(query))
        return Sheet("学生", XUEJI_COLUMNS, rows)
    # The display list shows no family members nor the template's other columns.
    rows = _students(query, defer(Student.members), defer(Student.national_extra))
    return Sheet("学生学籍", STUDENT_HEADERS, (_student_row(s) for s in rows))


def _student_row(s: Student) -> list:
    return [
        s.name,
        GENDER_LABELS.get(s.gender, s.gender),
        s.birth_date,
        s.ethnicity,
        s.id_type or "居民身份证",
        s.id_number,
        s.status_number,
        s.school.code,
        s.school.name,
        grade_label(s.grade),
        s.class_name,
        s.class_number,
        str(s.entry_year),
        s.status_label,
        s.household_code,
        s.guardian_name,
        s.guardian_phone,
        s.phone,
        s.borrow_host.name if s.borrow_host else "",
    ]


INSTANCE_HEADERS = (
    "业务编号",
    "业务类型",
    "学生姓名",
    "身份证号",
    "学校",
    "对方学校",
    "状态",
    "发起时间",
    "当前步骤",
)


def instances(query, user) -> Sheet:
    """业务查询: the instances of `query`, newest first; a school the user may not see yet
    (workflows/identity.py) is not named, as on the page."""
    query = query.options(*lists.INSTANCE_PAGE_ROWS).order_by(Instance.id.desc())
    return Sheet("业务查询", INSTANCE_HEADERS, _instance_rows(query, user))


def _instance_rows(query, user) -> Iterator[list]:
    for chunk in in_chunks(query):
        lists.sending_schools(chunk)
        for i in chunk:
            hidden = hidden_orgs(i, user)
            school = HIDDEN_ORG if i.school_id in hidden else (i.school.name if i.school else "")
            steps = "；".join(
                f"{HIDDEN_ORG if t.org_id in hidden else t.org.name}：{t.name}"
                for t in i.tasks
                if t.state == "open"
            )
            yield [
                i.id,
                procedure_name(i.procedure),
                i.student.name if i.student else "",
                i.student.id_number if i.student else "",
                school,
                i.partner_school.name if i.partner_school else "",
                INSTANCE_STATUS_LABELS.get(i.status, i.status),
                local_time(i.created_at),
                steps,
            ]


TASK_HEADERS = (
    "任务编号",
    "业务编号",
    "业务类型",
    "学生姓名",
    "身份证号",
    "当前步骤",
    "到达时间",
    "办理期限",
    "是否逾期",
    "认领人",
)


def tasks(query, title: str = "待办任务") -> Sheet:
    """The inbox (or any list of open steps) in the order of `query`."""
    query = query.options(*lists.TASK_ROWS, joinedload(HumanTask.org))
    return Sheet(title, TASK_HEADERS, _task_rows(query))


def _task_rows(query) -> Iterator[list]:
    now = utcnow()
    for chunk in in_chunks(query):
        for t in chunk:
            student = t.instance.student
            yield [
                t.id,
                t.instance_id,
                procedure_name(t.instance.procedure),
                student.name if student else "",
                student.id_number if student else "",
                t.name,
                local_time(t.created_at),
                local_time(t.due_at)[:10],
                "是" if t.due_at and t.due_at < now else "否",
                t.claimed_by.label if t.claimed_by else "",
            ]


OVERDUE_HEADERS = ("单位", "单位代码", *TASK_HEADERS[:6], "办理期限", "逾期天数", "认领人")


def overdue(query) -> Sheet:
    """逾期督办: overdue steps with the organisation that has to act, the longest first."""
    query = query.options(*lists.TASK_ROWS, joinedload(HumanTask.org))
    return Sheet("逾期督办", OVERDUE_HEADERS, _overdue_rows(query))


def _overdue_rows(query) -> Iterator[list]:
    now = utcnow()
    for chunk in in_chunks(query):
        for t in chunk:
            student = t.instance.student
            yield [
                t.org.name,
                t.org.code,
                t.id,
                t.instance_id,
                procedure_name(t.instance.procedure),
                student.name if student else "",
                student.id_number if student else "",
                t.name,
                local_time(t.due_at)[:10],
                (now - t.due_at).days,
                t.claimed_by.label if t.claimed_by else "",
            ]


ROSTER_HEADERS = (
    "班级",
    "姓名",
    "身份证号",
    "学籍号",
    "结论",
    "判定理由",
    "是否剔除",
    "审核意见",
    "证书编号",
)


def roster(title: str, query, labels: dict[str, str]) -> Sheet:
    """A cohort's roster (毕业、注册名册) as filtered on its page."""
    query = query.options(joinedload(RosterEntry.student))
    rows = (
        [
            e.class_name,
            e.student.name,
            e.student.id_number,
            e.student.status_number,
            labels[e.classification],
            "；".join(e.reasons or []),
            "是" if e.struck else "",
            e.comment,
            e.certificate_number,
        ]
        for chunk in in_chunks(query)
        for e in chunk
    )
    return Sheet(title, ROSTER_HEADERS, rows)


AUDIT_HEADERS = ("时间", "操作人", "操作", "对象类型", "对象编号", "变更前", "变更后")


def audit_log(query) -> Sheet:
    """The audit log (admins), newest first."""
    query = query.options(selectinload(AuditLog.user)).order_by(AuditLog.id.desc())
    rows = (
        [
            local_time(a.at),
            a.user.label if a.user else (a.actor or ""),
            a.action,
            a.object_type,
            a.object_id,
            _json_text(a.before),
            _json_text(a.after),
        ]
        for chunk in in_chunks(query)
        for a in chunk
    )
    return Sheet("审计日志", AUDIT_HEADERS, rows)


def _json_text(value) -> str:
    if not value:
        return ""
    if isinstance(value, dict):
        return "；".join(f"{k}={v}" for k, v in value.items())
    return str(value)
