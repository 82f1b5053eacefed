"""Flask extensions, created once and bound to an app in the factory."""

from pathlib import Path

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf import CSRFProtect

from .models.base import db  # noqa: F401  (declared with the tables; bound in the factory)

login_manager = LoginManager()
migrate = Migrate(directory=str(Path(__file__).parent / "migrations"), render_as_batch=True)
csrf = CSRFProtect()
# Only routes that say so are limited (sign-in); storage is Redis when REDIS_URL is set.
limiter = Limiter(key_func=get_remote_address, strategy="moving-window")
