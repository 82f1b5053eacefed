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
        "DATA_DIR": str(data_dir),
    }
