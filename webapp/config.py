"""Configuration from the environment; the defaults are safe only for the local demo."""

import os
from pathlib import Path


def from_env() -> dict:
    data_dir = Path(os.environ.get("XUEJI_DATA_DIR", Path.cwd() / "instance"))
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{data_dir / 'xueji.sqlite'}"
    if database_url.startswith("postgres://"):
        database_url = "postgresql://" + database_url[len("postgres://") :]
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": os.environ.get("SECRET_KEY", "xueji-demo-only-secret"),
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
        # Notices are also e-mailed when an SMTP server is named (see webapp/mailer.py).
        "SMTP_HOST": os.environ.get("XUEJI_SMTP_HOST") or None,
        "SMTP_PORT": int(os.environ.get("XUEJI_SMTP_PORT") or 0) or None,
        "SMTP_FROM": os.environ.get("XUEJI_SMTP_FROM") or None,
        "SMTP_USER": os.environ.get("XUEJI_SMTP_USER") or None,
        "SMTP_PASSWORD": os.environ.get("XUEJI_SMTP_PASSWORD") or None,
        "SMTP_TLS": os.environ.get("XUEJI_SMTP_TLS") or None,  # starttls | ssl | none
    }
