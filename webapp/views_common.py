"""Template helpers shared by every page: labels, time formatting, pagination, error pages."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from forms import FORMS, load_all
from forms.spreadsheets import SHEET_ROW, UnreadableFile, read_table
from handlers.rules import title_of
from webapp.models.vocabulary import PROCEDURES, procedure_name
from workflows import engine
from workflows.errors import Conflict, Forbidden, Invalid
from workflows.identity import TooMany, hidden_orgs
from workflows.notices import KIND_LABELS as NOTICE_KINDS

from .exports import BadFormat
from .extensions import db
from .finding import BadFilter
from .guard import MAX_PAGE
from .json_errors import http_error_json
from .models import (
    CHINA,
    LEVEL_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
    FileUpload,
    Instance,
    Notification,
    Organization,
    utcnow,
)
from .paging import Page, bounded_count, page_of
from .uploads import MAX_BYTES, UploadRefused, store_upload

load_all()

UNREAD_BOUND = 99  # the header shows 99+ beyond it

INSTANCE_STATUS_LABELS = {
    "running": "办理中",
    "completed": "已办结",
    "rejected": "未通过",
    "cancelled": "已撤销",
    "error": "出错",
}
DECISION_LABELS = {
    "approve": "同意",
    "reject": "不同意",
    "return": "退回修改",
    "reexamine": "要求复查",
    "acknowledge": "将办理复学",  # the school's answer to the end-date reminder of a 休学
    "extend": "申请续办休学",
    "pass": "通过",
    "fail": "未通过",
    "comment": "留言",
    "withdraw": "撤销申请",
}
GENDER_LABELS = {"M": "男", "F": "女"}
CHANGE_LABELS = {
    "school_code": "学校",
    "class_name": "班级",
    "grade": "年级",
    "status": "学籍状态",
    "suspended_until": "休学至",
    "extension": "续办休学（第几次）",
    "name": "姓名",
    "gender": "性别",
    "birth_date": "出生日期",
    "id_number": "身份证号",
    "status_number": "学籍号",
    "borrow_host_code": "借读学校",
    "borrow_start": "借读开始日期",
    "borrow_end": "借读结束日期",
    "borrow_returned_on": "返回原校日期",
    "borrow_results": "借读期间成绩、评定和奖惩",
    "deferral": "延缓入学",
    "left_for": "去向",
}
# Which school each side of a two-sided procedure is, as the application page names it.
SIDE_LABELS = {
    "borrow": ("学籍所在学校", "借读学校"),
    "borrow_return": ("学籍所在学校", "借读学校"),
}
HIDDEN_ORG = "（学籍所在学校同意后显示）"
_GRADE_NAMES = ("一", "二", "三", "四", "五", "六", "七", "八", "九")
_SENIOR_NAMES = {10: "高一", 11: "高二", 12: "高三"}


def to_local(value: datetime | None) -> datetime | None:
    """A stored (naive UTC) time as Beijing time."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC).astimezone(CHINA)


def format_dt(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    local = to_local(value)
    return local.strftime(fmt) if local else ""


def waited(since: datetime | None, now: datetime | None = None) -> str:
    """How long something has waited, humanised: "3 天", "5 小时", "12 分钟"."""
    if since is None:
        return ""
    seconds = max(0, int(((now or utcnow()) - since).total_seconds()))
    if seconds >= 86400:
        return f"{seconds // 86400} 天"
    if seconds >= 3600:
        return f"{seconds // 3600} 小时"
    return f"{max(1, seconds // 60)} 分钟"


def grade_label(grade: int | None) -> str:
    if grade is None:
        return ""
    if 1 <= grade <= 9:
        name = f"{_GRADE_NAMES[grade - 1]}年级"
        return name if grade <= 6 else f"{name}（初{_GRADE_NAMES[grade - 7]}）"
    return _SENIOR_NAMES.get(grade, str(grade))


def org_name(org_id: int | None) -> str:
    org = db.session.get(Organization, org_id) if org_id else None
    return org.name if org else ""


def describe_change(before: dict, after: dict) -> list[tuple[str, str, str]]:
    """(label, before, after) for every field a status-history row changed, in Chinese."""
    out = []
    order = list(CHANGE_LABELS)
    keys = sorted(set(before) | set(after), key=lambda k: order.index(k) if k in order else 99)
    for key in keys:
        old, new = before.get(key), after.get(key)
        if old != new:
            out.append(
                (CHANGE_LABELS.get(key, key), _change_value(key, old), _change_value(key, new))
            )
    return out


def _change_value(key: str, value) -> str:
    if value in (None, ""):
        return "（无）"
    if key in ("school_code", "borrow_host_code"):
        org = Organization.query.filter_by(code=value).first()
        return org.name if org else value
    if key == "status":
        return STATUS_LABELS.get(value, value)
    if key == "grade":
        return grade_label(int(value))
    if key == "gender":
        return GENDER_LABELS.get(value, value)
    return str(value)


def _choice_label(choices: tuple[tuple[str, str], ...], value) -> str:
    return next((label for key, label in choices if key == value), str(value))


def application_rows(instance: Instance, hidden: set[int] = frozenset()) -> list[tuple[str, str]]:
    """What was applied for, as (label, value): the student, the schools, the start form;
    a school in `hidden` is not named (see `workflows.identity.hidden_orgs`)."""
    data = instance.data or {}
    student = instance.student
    rows = [("业务类型", procedure_name(instance.procedure))]
    if student is not None:
        rows += [("学生姓名", student.name), ("身份证号", student.id_number)]
        rows.append(("当前年级", grade_label(student.grade)))
    from_label, to_label = SIDE_LABELS.get(instance.procedure, ("转出学校", "转入学校"))
    if data.get("from_school_id") in hidden:
        rows.append((from_label, HIDDEN_ORG))
    elif data.get("from_school_id"):
        rows.append((from_label, org_name(data["from_school_id"])))
    if data.get("to_school_id"):
        rows.append((to_label, org_name(data["to_school_id"])))
    elif data.get("to_county_id"):  # a county places the student (shandong)
        rows.append(("转入县（区）", f"{org_name(data['to_county_id'])}（由该县区教育局安置学校）"))
    elif data.get("destination"):  # off the platform (转至市外)
        rows.append(("转至市外", data["destination"]))
    proc = PROCEDURES.get(instance.procedure)
    if proc is not None and proc.cohort and instance.school is not None:
        rows.append(("学校", instance.school.name))
    skip = {"id_number", "name", "to_school_code", "host_school_code", "evidence"}
    for field in FORMS[proc.start_form].fields if proc else ():
        if field.name in skip:
            continue
        value = data.get(field.name)
        if field.name == "rows":  # a cohort's list: its size here, never the rows themselves
            value = f"{len(value or [])} 人"
        elif field.name.endswith("grade") and value not in (None, ""):
            value = grade_label(int(value))  # before choices: a grade select's keys are text
        elif field.choices and value not in (None, ""):
            value = _choice_label(field.choices, value)
        elif field.name == "new_value" and value not in (None, ""):
            value = _change_value(data.get("field", ""), value)  # 学籍信息变更: 性别 M → 男
        rows.append((field.label, "" if value in (None, "") else str(value)))
    return rows


def evidence_files(instance: Instance) -> list[FileUpload]:
    ids = [int(i) for i in (instance.data or {}).get("evidence") or [] if str(i).isdigit()]
    if not ids:
        return []
    return FileUpload.query.filter(FileUpload.id.in_(ids)).order_by(FileUpload.id).all()


def notifications_for(user):
    """Notifications addressed to the user's organisation (for its role, or to everyone)."""
    return Notification.query.filter(
        Notification.org_id == user.org_id,
        db.or_(Notification.role.is_(None), Notification.role == user.role),
    )


def paginate(query) -> Page:
    """One page of `query` (page from ?page=, size from the PER_PAGE setting); a page past
    any list's end (10**30 overflows the database's offset) is 404."""
    page = request.args.get("page", 1, type=int)
    if page > MAX_PAGE:
        abort(404)
    return page_of(query, page, current_app.config["PER_PAGE"])


def form_data(names: list[str]) -> dict:
    """The submitted values of these fields; blank ones are left out so "required" speaks."""
    return {n: request.form[n] for n in names if request.form.get(n, "").strip()}


def general_errors(errors: dict, fields) -> list[str]:
    """Messages that belong to no field of the form, shown above it."""
    names = {f.name for f in fields}
    return [m for key, msgs in errors.items() if key not in names for m in msgs]


MAX_TABLE_BYTES = 10 * 1024 * 1024  # an admitted list of several thousand rows


def submitted(fields, user) -> tuple[dict, dict]:
    """A form's values, with uploaded files staged as evidence ids and uploaded spreadsheets
    read into rows; (data, field errors).

    Uploads join the current transaction, so a refused form keeps none of them.
    """
    data = form_data([f.name for f in fields if f.widget not in ("files", "table")])
    errors: dict[str, list[str]] = {}
    for f in (f for f in fields if f.widget == "table"):
        sent = request.files.get(f.name)
        if not sent or not sent.filename:
            continue
        try:
            table = read_table(sent.read(MAX_TABLE_BYTES), sent.filename)
        except UnreadableFile as exc:
            errors.setdefault(f.name, []).append(str(exc))
            continue
        data[f.name] = [{**values, SHEET_ROW: number} for number, values in table.rows]
    for f in (f for f in fields if f.widget == "files"):
        ids = []
        for sent in request.files.getlist(f.name):
            if not sent or not sent.filename:
                continue
            try:
                ids.append(store_upload(user, sent.filename, sent.read(MAX_BYTES + 1)).id)
            except UploadRefused as exc:
                errors.setdefault(f.name, []).append(str(exc))
        if ids:
            data[f.name] = ids
    return data, errors


def start_submitted(procedure: str, fields, render, fixed: dict | None = None, student_id=None):
    """Start `procedure` from the submitted form: the instance, or the page that says why not.

    Uploads join the start's transaction; a refused form keeps none of them and keeps what
    was typed (422 for bad data, 409 for a conflict, 403 for a caller who may not start it).
    """
    data, upload_errors = submitted(fields, current_user)
    if upload_errors:
        db.session.rollback()
        return render(dict(request.form), upload_errors, 422)
    data.update(fixed or {})
    try:
        # Check before creating: an application the first automatic checks refuse comes
        # back with each refusal beside its field, and no instance is made.
        return engine.start(procedure, current_user, data, student_id=student_id, check_first=True)
    except Invalid as exc:
        return render(dict(request.form), exc.fields or {"": [exc.message]}, 422)
    except Conflict as exc:
        return render(dict(request.form), {"": [exc.message]}, 409)
    except TooMany as exc:
        return render(dict(request.form), {"": [exc.message]}, 429)
    except Forbidden:
        abort(403)


def safe_next(target: str | None, default: str) -> str:
    """`target` if it is a path on this site, else `default` (no open redirects)."""
    if target and target.startswith("/") and not urlsplit(target).netloc and "\\" not in target:
        return target
    return default


def _error(code: int, title: str, message: str):
    return render_template("error.html", code=code, title=title, message=message), code


def register_template_helpers(app: Flask) -> None:
    @app.context_processor
    def labels():
        unread = 0
        if current_user.is_authenticated:
            unread = bounded_count(
                notifications_for(current_user).filter(Notification.read_at.is_(None)),
                UNREAD_BOUND,
            )
        return {
            "ROLE_LABELS": ROLE_LABELS,
            "STATUS_LABELS": STATUS_LABELS,
            "LEVEL_LABELS": LEVEL_LABELS,
            "INSTANCE_STATUS_LABELS": INSTANCE_STATUS_LABELS,
            "DECISION_LABELS": DECISION_LABELS,
            "NOTICE_KINDS": NOTICE_KINDS,
            "GENDER_LABELS": GENDER_LABELS,
            "procedure_name": procedure_name,
            "rule_title": title_of,
            "procedures": PROCEDURES,
            "grade_label": grade_label,
            "HIDDEN_ORG": HIDDEN_ORG,
            "hidden_orgs_for": lambda instance: hidden_orgs(instance, current_user),
            "org_name": org_name,
            "waited": waited,
            "unread_count": unread,
            "now": utcnow(),
        }

    app.add_template_filter(format_dt, "dt")

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return _error(400, "请求被拒绝", "表单缺少安全令牌或已过期，请返回刷新页面后重新提交。")

    @app.errorhandler(BadFormat)
    def bad_format(exc: BadFormat):
        return _error(400, "导出格式有误", exc.message)

    @app.errorhandler(BadFilter)
    def bad_filter(exc: BadFilter):
        return _error(400, "筛选条件有误", exc.text)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if request.path.startswith("/api/"):
            return http_error_json(exc)
        # After a database error the transaction is aborted (PostgreSQL): the page's own
        # queries (the unread count) would fail and Flask would answer in English.
        db.session.rollback()
        messages = {
            403: ("无权操作", "您的账号没有执行此操作的权限。"),
            404: ("页面不存在", "您要找的内容不存在，或不在您的管辖范围内。"),
            405: ("请求方式错误", "该页面不支持这种请求方式。"),
            500: ("服务器内部错误", "服务器处理请求时出错，请稍后重试或联系管理员。"),
        }
        title, message = messages.get(exc.code, ("请求出错", "请求无法完成，请稍后重试。"))
        return _error(exc.code or 500, title, message)
