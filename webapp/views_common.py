"""Template helpers shared by every page."""

from flask import Flask

from .models import LEVEL_LABELS, ROLE_LABELS, STATUS_LABELS


def register_template_helpers(app: Flask) -> None:
    @app.context_processor
    def labels():
        return {
            "ROLE_LABELS": ROLE_LABELS,
            "STATUS_LABELS": STATUS_LABELS,
            "LEVEL_LABELS": LEVEL_LABELS,
        }
