"""Sign-in throttling with Flask-Limiter: wrong passwords per account and per address.

Only refused attempts (401) count. Once an account or an address has used up its attempts,
every attempt is refused, the right password too, with the wait until a slot frees up. The
login page and the API token share the counters, so switching between them gains nothing.
Counters live in Redis when REDIS_URL is set (shared by every server process), else in memory.
"""

from __future__ import annotations

import math
import time

from flask import Flask, current_app, render_template, request
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_login import current_user

from ..extensions import db, limiter
from ..json_errors import error_response
from ..models import audit
from .accounts import client_facts

ACCOUNT_LIMIT = "10 per minute; 50 per hour"
ADDRESS_LIMIT = "30 per minute; 300 per hour"  # an office shares one address
SIGN_IN_ENDPOINTS = {"auth.login", "api.token"}


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "xueji")
    # Redis down: each process counts in memory until it is back; sign-in never fails for it.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    app.config.setdefault("LOGIN_LIMIT_ACCOUNT", ACCOUNT_LIMIT)
    app.config.setdefault("LOGIN_LIMIT_ADDRESS", ADDRESS_LIMIT)
    limiter.init_app(app)
    app.register_error_handler(RateLimitExceeded, _too_many)


def attempted_username() -> str:
    """The username a sign-in request names (form or JSON body), as typed."""
    if request.is_json:
        body = request.get_json(silent=True)
        name = body.get("username") if isinstance(body, dict) else None
    else:
        name = request.form.get("username")
    return name.strip()[:64] if isinstance(name, str) else ""


def _refused(response) -> bool:
    return response.status_code == 401


def _account_key() -> str:
    return "account:" + attempted_username().lower()


def _address_key() -> str:
    return "address:" + (get_remote_address() or "unknown")


def throttled(view):
    """Limit a sign-in view's POSTs per account and per address."""
    view = limiter.shared_limit(
        lambda: current_app.config["LOGIN_LIMIT_ACCOUNT"],
        scope="sign-in-account",
        key_func=_account_key,
        deduct_when=_refused,
        methods=["POST"],
    )(view)
    return limiter.shared_limit(
        lambda: current_app.config["LOGIN_LIMIT_ADDRESS"],
        scope="sign-in-address",
        key_func=_address_key,
        deduct_when=_refused,
        methods=["POST"],
    )(view)


def guarded_by_user(view):
    """Limit a signed-in form that checks the current password (10 refusals a minute), so a
    taken-over session cannot guess it to lock the owner out."""
    return limiter.limit(
        lambda: current_app.config["LOGIN_LIMIT_ACCOUNT"],
        key_func=lambda: f"user:{current_user.get_id()}",
        deduct_when=lambda response: response.status_code == 422,
        methods=["POST"],
    )(view)


def _too_many(exc: RateLimitExceeded):
    """429 with the wait in seconds: on the login page, or as the API's JSON error."""
    current = limiter.current_limit
    wait = max(1, math.ceil(current.reset_at - time.time())) if current else 60
    message = f"尝试次数过多，请 {wait} 秒后再试。"
    headers = {"Retry-After": str(wait)}
    if request.endpoint in SIGN_IN_ENDPOINTS:
        facts = {"username": attempted_username(), **client_facts()}
        audit(None, "auth.throttled", None, None, facts)
        db.session.commit()
    if request.blueprint == "api":
        return error_response(429, "too_many_requests", message, headers=headers)
    if request.endpoint == "auth.login":
        page = render_template("auth/login.html", username=attempted_username(), error=message)
        return page, 429, headers
    page = render_template("error.html", code=429, title="请求过于频繁", message=message)
    return page, 429, headers
