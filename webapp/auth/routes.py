"""Sign-in, sign-out and the signed-in user's own account page (password, sign out everywhere).

Sessions name the user's session generation (User.get_id): logging out, changing the
password or being disabled raises it, and every older cookie and API token stops working.
"""

from __future__ import annotations

import time

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import db, login_manager
from ..models import User, audit
from ..views_common import safe_next
from . import bp, passwords
from .accounts import SignInRefused, client_facts, sign_in
from .throttle import guarded_by_user, throttled

SIGNED_IN_AT = "signed_in_at"  # session key: when this browser signed in (Unix time)


def _start_session(user: User) -> None:
    login_user(user)
    session[SIGNED_IN_AT] = int(time.time())


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The signed-in user, if the cookie's generation is still current, the session not
    older than PERMANENT_SESSION_LIFETIME (12 hours) and the user active."""
    user_id, _, epoch = session_id.partition(":")
    if not (user_id.isdigit() and epoch.isdigit()):
        return None
    lifetime = current_app.permanent_session_lifetime.total_seconds()
    if time.time() - session.get(SIGNED_IN_AT, 0) > lifetime:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_epoch != int(epoch):
        return None
    return user


@bp.route("/login", methods=["GET", "POST"])
@throttled
def login():
    """Show the sign-in form; on POST check the password and start a session."""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("inbox.index"))
    username = request.form.get("username", "").strip()
    error = None
    if request.method == "POST":
        if not username or not request.form.get("password"):
            error = "请输入用户名和密码。"
        else:
            try:
                user = sign_in(username, request.form["password"], "web")
            except SignInRefused as refused:
                error = str(refused)
            else:
                _start_session(user)
                db.session.commit()
                flash(f"欢迎，{user.label}。", "success")
                return redirect(safe_next(request.args.get("next"), url_for("inbox.index")))
        db.session.commit()
    status = 401 if error else 200
    return render_template("auth/login.html", username=username, error=error), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """End the session, here and wherever this user's cookie or token was copied to."""
    user = current_user._get_current_object()
    user.revoke_sessions()
    audit(user, "auth.logout", user, None, client_facts())
    db.session.commit()
    logout_user()
    flash("您已安全退出。", "success")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
@guarded_by_user
def account():
    """Change one's own password: the current one, then the new one twice."""
    user = current_user._get_current_object()
    errors: dict[str, str] = {}
    if request.method == "POST":
        current = request.form.get("current_password", "")
        new = request.form.get("new_password", "")
        if not user.check_password(current):
            errors["current_password"] = "当前密码不正确。"
        elif (problem := passwords.problem(new, user.username)) is not None:
            errors["new_password"] = problem
        elif new == current:
            errors["new_password"] = "新密码不能与当前密码相同。"
        elif request.form.get("confirm_password", "") != new:
            errors["confirm_password"] = "两次输入的新密码不一致。"
        else:
            user.set_password(new)
            user.revoke_sessions()
            audit(user, "auth.password_change", user, None, client_facts())
            db.session.commit()
            _start_session(user)  # this browser stays signed in, in the new generation
            flash("密码已修改；其他设备上的登录和 API 令牌已全部失效。", "success")
            return redirect(url_for("inbox.index"))
    status = 422 if errors else 200
    return render_template("auth/account.html", errors=errors, user=user), status


@bp.route("/account/sign-out-everywhere", methods=["POST"])
@login_required
def sign_out_everywhere():
    """Revoke every session and token of this user, this browser's too."""
    user = current_user._get_current_object()
    user.revoke_sessions()
    audit(user, "auth.sign_out_everywhere", user, None, client_facts())
    db.session.commit()
    logout_user()
    flash("已在所有设备上退出登录，所有 API 令牌均已失效。", "success")
    return redirect(url_for("auth.login"))
