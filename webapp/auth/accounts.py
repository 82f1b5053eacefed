"""Signing in, shared by the login page and the API token.

One check whatever the username: an unknown user costs the same password hash as a known
one, so timing does not tell which usernames exist. A disabled or frozen account (unused for
FREEZE_DAYS, 长期未用账号封存) is named only to whoever knows its password. Every attempt is
audited with the client's address and user agent.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from functools import cache

from flask import current_app, request
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import User, audit, utcnow

WRONG = "用户名或密码错误。"
# Audit actions per channel: signed in, wrong credentials, refused account.
ACTIONS = {
    "web": ("auth.login", "auth.login_failed", "auth.login_refused"),
    "api": ("auth.token", "auth.token_refused", "auth.token_refused"),
}


class SignInRefused(Exception):
    """The attempt failed; the message says why in Chinese."""


@cache
def _dummy_hash() -> str:
    """A hash of nothing anyone knows, checked when the username is unknown."""
    return generate_password_hash(secrets.token_hex(16))


def client_facts() -> dict:
    """The address and user agent of the current request, for the audit log."""
    return {
        "address": request.remote_addr,
        "user_agent": (request.user_agent.string or "")[:256],
    }


def frozen(user: User) -> bool:
    """Unused for longer than FREEZE_DAYS (0: never frozen)."""
    days = current_app.config.get("FREEZE_DAYS") or 0
    since = user.idle_since
    return bool(days) and since is not None and since < utcnow() - timedelta(days=days)


def sign_in(username: str, password: str, channel: str) -> User:
    """The user whose password this is, still active and not frozen; else SignInRefused.

    `channel` ("web" or "api") is written to the audit entry; the caller commits.
    """
    user = db.session.scalar(db.select(User).filter_by(username=username)) if username else None
    ok = check_password_hash(user.password_hash if user else _dummy_hash(), password or "")
    facts = {"username": username, "channel": channel, **client_facts()}
    signed_in, failed, refused = ACTIONS[channel]
    if user is None or not ok:  # nobody is signed in: the row names the account tried
        audit(None, failed, user, None, facts)
        raise SignInRefused(WRONG)
    if not user.active:
        audit(None, refused, user, None, {**facts, "reason": "disabled"})
        raise SignInRefused("该账号已停用，请联系平台管理员。")
    if frozen(user):
        audit(None, refused, user, None, {**facts, "reason": "frozen"})
        days = current_app.config["FREEZE_DAYS"]
        raise SignInRefused(
            f"该账号已超过 {days} 天未使用，按长期未用账号封存的规定已被封存，"
            "请联系平台管理员解封。"
        )
    user.last_login_at = utcnow()
    audit(user, signed_in, user, None, facts)
    return user
