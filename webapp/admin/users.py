"""Accounts (账号管理): who may sign in. An admin disables or re-enables an account, signs a
user out everywhere, and lifts the freeze of an account unused for too long.

Disabling and signing out raise the user's session generation, so every cookie and API
token issued before stops working at once. Admins only (the blueprint's before_request).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_

from webapp.auth.accounts import frozen
from webapp.extensions import db
from webapp.models import User, audit, utcnow
from webapp.views_common import paginate

from . import bp


@bp.route("/users")
def user_index():
    """Every account with its state and last sign-in; ?q= matches username or name."""
    q = request.args.get("q", "").strip()[:64]
    query = User.query.order_by(User.username)
    if q:
        like = f"%{q}%"
        query = query.filter(or_(User.username.ilike(like), User.display_name.ilike(like)))
    return render_template("admin/users.html", page=paginate(query), q=q, frozen=frozen)


def _target(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _done(user: User, action: str, message: str):
    audit(current_user, action, user, None, {"username": user.username})
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("admin.user_index", q=request.args.get("q") or None))


@bp.route("/users/<int:user_id>/disable", methods=["POST"])
def disable_user(user_id: int):
    user = _target(user_id)
    if user.id == current_user.id:
        flash("不能停用自己的账号。", "error")
        return redirect(url_for("admin.user_index"))
    user.active = False
    user.revoke_sessions()
    return _done(user, "user.disable", f"已停用 {user.username}：其登录和 API 令牌已全部失效。")


@bp.route("/users/<int:user_id>/enable", methods=["POST"])
def enable_user(user_id: int):
    user = _target(user_id)
    user.active = True
    return _done(user, "user.enable", f"已启用 {user.username}。")


@bp.route("/users/<int:user_id>/revoke", methods=["POST"])
def revoke_user(user_id: int):
    user = _target(user_id)
    user.revoke_sessions()
    return _done(
        user, "user.revoke_sessions", f"已让 {user.username} 在所有设备上退出，API 令牌均已失效。"
    )


@bp.route("/users/<int:user_id>/unfreeze", methods=["POST"])
def unfreeze_user(user_id: int):
    user = _target(user_id)
    user.unfrozen_at = utcnow()
    return _done(user, "user.unfreeze", f"已解封 {user.username}：该账号可以重新登录。")


@bp.route("/users/<int:user_id>/lead", methods=["POST"])
def toggle_lead(user_id: int):
    """Make the user its organisation's lead (负责人), or no longer; audited with before/after."""
    user = _target(user_id)
    before = {"lead": user.lead}
    user.lead = not user.lead
    audit(
        current_user, "user.set_lead", user, before, {"username": user.username, "lead": user.lead}
    )
    db.session.commit()
    flash(
        f"已将 {user.username} 设为{user.org.name}负责人。"
        if user.lead
        else f"已取消 {user.username} 的负责人身份。",
        "success",
    )
    return redirect(url_for("admin.user_index", q=request.args.get("q") or None))
