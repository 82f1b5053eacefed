"""Sign-in and sign-out (Flask-Login sessions); every attempt is written to the audit log."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import db, login_manager
from ..models import User, audit
from ..views_common import safe_next
from . import bp


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The signed-in user; a deactivated account is signed out on its next request."""
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the sign-in form; on POST check the password and start a session."""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("inbox.index"))
    username = request.form.get("username", "").strip()
    error = None
    if request.method == "POST":
        user = User.query.filter_by(username=username).first() if username else None
        if not username or not request.form.get("password"):
            error = "请输入用户名和密码。"
        elif user is None or not user.check_password(request.form["password"]):
            error = "用户名或密码错误。"
            audit(None, "auth.login_failed", after={"username": username})
        elif not user.active:
            error = "该账号已停用，请联系平台管理员。"
            audit(user, "auth.login_refused", user)
        else:
            login_user(user)
            audit(user, "auth.login", user)
            db.session.commit()
            flash(f"欢迎，{user.label}。", "success")
            return redirect(safe_next(request.args.get("next"), url_for("inbox.index")))
        db.session.commit()
    status = 401 if error else 200
    return render_template("auth/login.html", username=username, error=error), status


@bp.route("/logout")
@login_required
def logout():
    """End the session."""
    audit(current_user, "auth.logout", current_user)
    db.session.commit()
    logout_user()
    flash("您已安全退出。", "success")
    return redirect(url_for("auth.login"))
