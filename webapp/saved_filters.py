"""Saved filters: "保存当前筛选" on the inbox, 业务查询 and the student list keeps the
page's query string under a name, for the user alone. A link applies it, a button deletes
it; another user's filter is answered as absent (404). Saving and deleting are audited."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from .extensions import db
from .models import (
    SAVED_FILTER_NAME_MAX,
    SAVED_FILTER_QUERY_MAX,
    SavedFilter,
    audit,
)

bp = Blueprint("saved_filters", __name__)

# The list each saved filter belongs to.
ENDPOINTS = {"inbox": "inbox.index", "instances": "instances.index", "students": "students.index"}
# What a query string carries that is not a filter: the page number, an export's format.
_NOT_FILTERS = {"page", "format", "csrf_token"}


def _clean(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=False)
    return urlencode([(k, v) for k, v in pairs if k not in _NOT_FILTERS and v.strip()])


def _url(page: str, query: str) -> str:
    base = url_for(ENDPOINTS[page])
    return f"{base}?{query}" if query else base


def for_page(user, page: str) -> list[tuple[SavedFilter, str]]:
    """The user's own saved filters of one list, by name, each with the link that applies
    it (one range of the (user, page, name) index)."""
    rows = (
        SavedFilter.query.filter(SavedFilter.user_id == user.id, SavedFilter.page == page)
        .order_by(SavedFilter.name)
        .all()
    )
    return [(row, _url(page, row.query_string)) for row in rows]


@bp.route("/filters", methods=["POST"])
@login_required
def save():
    """Keep the current filters under a name; the same name again replaces them."""
    page = request.form.get("page", "")
    if page not in ENDPOINTS:
        abort(400)
    query = _clean(request.form.get("query", ""))
    name = request.form.get("name", "").strip()
    error = None
    if not name:
        error = "请填写筛选名称。"
    elif len(name) > SAVED_FILTER_NAME_MAX:
        error = f"筛选名称不能超过 {SAVED_FILTER_NAME_MAX} 个字。"
    elif len(query) > SAVED_FILTER_QUERY_MAX:
        error = "筛选条件过长，无法保存。"
    if error:
        flash(error, "error")
        return redirect(_url(page, query))
    row = SavedFilter.query.filter_by(user_id=current_user.id, page=page, name=name).first()
    before = {"query": row.query_string} if row is not None else None
    if row is None:
        row = SavedFilter(user_id=current_user.id, page=page, name=name)
        db.session.add(row)
    row.query_string = query
    db.session.flush()
    audit(current_user, "save_filter", row, before, {"page": page, "name": name, "query": query})
    db.session.commit()
    flash(f"已保存筛选“{name}”。", "success")
    return redirect(_url(page, query))


@bp.route("/filters/<int:filter_id>/delete", methods=["POST"])
@login_required
def delete(filter_id: int):
    """Delete one of the user's own saved filters."""
    row = SavedFilter.query.filter_by(id=filter_id, user_id=current_user.id).first()
    if row is None:
        abort(404)
    page, name = row.page, row.name
    audit(
        current_user, "delete_filter", row, {"page": page, "name": name, "query": row.query_string}
    )
    db.session.delete(row)
    db.session.commit()
    flash(f"已删除筛选“{name}”。", "success")
    return redirect(url_for(ENDPOINTS[page]))
