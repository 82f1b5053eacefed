"""Configuration from the environment; the defaults are safe only for the local demo."""

import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

# The demo's key is public (it is in this file), so anything signed with it can be forged.
DEMO_SECRET = "xueji-demo-only-secret"
MIN_SECRET_BYTES = 32


class InsecureSecret(RuntimeError):
    """SECRET_KEY is the public demo key or too short for a real deployment."""


def from_env() -> dict:
    data_dir = Path(os.environ.get("XUEJI_DATA_DIR", Path.cwd() / "instance"))
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{data_dir / 'xueji.sqlite'}"
    if database_url.startswith("postgres://"):
        database_url = "postgresql://" + database_url[len("postgres://") :]
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": os.environ.get("SECRET_KEY", DEMO_SECRET),
        # A configured database means real data: the app then refuses the demo key.
        "DEPLOYED": bool(os.environ.get("DATABASE_URL")),
        # Session cookies only over HTTPS, on by default in a deployment (XUEJI_COOKIE_SECURE=0
        # for a plain-HTTP intranet).
        "SESSION_COOKIE_SECURE": _flag("XUEJI_COOKIE_SECURE", bool(os.environ.get("DATABASE_URL"))),
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        # The worker's periodic scan (timers, lost jobs): how often, and how long a worker's
        # lease on the instance it runs lasts unrenewed (a killed worker's work is queued
        # again once its lease has run out).
        "SCAN_SECONDS": float(os.environ.get("XUEJI_SCAN_SECONDS", 30)),
        "LEASE_SECONDS": float(os.environ.get("XUEJI_LEASE_SECONDS", 30)),
        # Seconds to wait before the 2nd, 3rd, … try of a failing automatic step.
        "RETRY_BACKOFF": [
            float(x) for x in os.environ.get("XUEJI_RETRY_BACKOFF", "2,10,30").split(",")
        ],
        # Starts that name another school's pupil by ID number and name, per school and hour.
        "IDENTITY_STARTS_PER_HOUR": int(os.environ.get("XUEJI_IDENTITY_STARTS_PER_HOUR", 30)),
        "DATA_DIR": str(data_dir),
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are trusted: the
        # client's address (throttling, audits) is then the one the nearest proxy saw.
        "PROXY_COUNT": int(os.environ.get("XUEJI_PROXY_COUNT") or 0),
        # A browser's sign-in ends this long after it signed in, like an API token.
        "PERMANENT_SESSION_LIFETIME": timedelta(
            hours=float(os.environ.get("XUEJI_SESSION_HOURS") or 12)
        ),
        # An account unused for this many days is frozen until an admin lifts it (0: never).
        "FREEZE_DAYS": int(os.environ.get("XUEJI_FREEZE_DAYS") or 180),
        # Notices are also e-mailed when an SMTP server is named (see workflows/mail.py).
        "SMTP_HOST": os.environ.get("XUEJI_SMTP_HOST") or None,
        "SMTP_PORT": int(os.environ.get("XUEJI_SMTP_PORT") or 0) or None,
        "SMTP_FROM": os.environ.get("XUEJI_SMTP_FROM") or None,
        "SMTP_USER": os.environ.get("XUEJI_SMTP_USER") or None,
        "SMTP_PASSWORD": os.environ.get("XUEJI_SMTP_PASSWORD") or None,
        "SMTP_TLS": os.environ.get("XUEJI_SMTP_TLS") or None,  # starttls | ssl | none
    }


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    return default if not value else value not in ("0", "false", "no", "off")


def check_secret(config: Mapping) -> None:
    """Raise InsecureSecret unless SECRET_KEY is a private key of at least 32 bytes.

    Sessions and API tokens are signed with it: with the demo key anyone can sign in as anyone.
    """
    key = config.get("SECRET_KEY") or ""
    size = len(key.encode() if isinstance(key, str) else key)
    hint = (
        "请设置至少 32 字节的随机密钥，例如："
        "export SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
    )
    if key == DEMO_SECRET or not key:
        raise InsecureSecret(
            f"拒绝启动：未设置 SECRET_KEY，默认密钥是公开的，只能用于演示（xueji demo）。{hint}"
        )
    if size < MIN_SECRET_BYTES:
        raise InsecureSecret(
            f"拒绝启动：SECRET_KEY 只有 {size} 字节，至少需要 {MIN_SECRET_BYTES} 字节。{hint}"
        )
