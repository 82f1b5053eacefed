"""One form per user task: a marshmallow schema (validation) plus labels/widgets (rendering).

The BPMN names a form by key (`<spiffworkflow:property name="formKey" value="review"/>`);
the same schema validates the browser form and the JSON API.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field

from marshmallow import Schema

from .messages import use_chinese

use_chinese()


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    widget: str = "text"  # text | textarea | number | select | radio | date
    choices: tuple[tuple[str, str], ...] = ()
    required: bool = False
    help: str = ""


# Grades are a fixed set: a select, never typed (the stored value stays the number 1–12).
_NAMES = "一二三四五六七八九"
GRADE_CHOICES: tuple[tuple[str, str], ...] = (
    *((str(g), f"{_NAMES[g - 1]}年级") for g in range(1, 7)),
    *((str(g), f"{_NAMES[g - 1]}年级（初{_NAMES[g - 7]}）") for g in range(7, 10)),
    ("10", "高一"),
    ("11", "高二"),
    ("12", "高三"),
)


def yes_no(name: str, label: str, help: str) -> Field:
    """A 否/是 choice whose stored value is a boolean."""
    return Field(name, label, "select", ((False, "否"), (True, "是")), help=help)


@dataclass(frozen=True)
class FormSpec:
    key: str
    title: str
    schema: type[Schema]
    fields: tuple[Field, ...] = field(default_factory=tuple)
    # Decision tables the step asks, in whichever diagram has it: a version without one is
    # refused at deploy.
    tables: tuple[str, ...] = ()

    def load(self, data: dict) -> dict:
        """Validate; raises marshmallow.ValidationError with per-field Chinese messages."""
        return self.schema().load(data)


FORMS: dict[str, FormSpec] = {}


def register(spec: FormSpec) -> FormSpec:
    if spec.key in FORMS:
        raise ValueError(f"form {spec.key} registered twice")
    FORMS[spec.key] = spec
    return spec


def load_all() -> dict[str, FormSpec]:
    """Import every form module so that its forms register themselves."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return FORMS
