"""What a handler is given: the instance, the acting user, the instance data, and the
services it may use. The engine implements the services (`workflows/services.py`); a
handler never reaches into the engine, and never writes a column the engine owns.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


class NoSuchTable(KeyError):
    """Neither the instance's version nor the shipped default has this decision table."""


@dataclass
class Context(ABC):
    instance: Any  # the instance row (read it; the services change what the engine owns)
    user: Any  # who set the step going (None: the platform)
    data: dict  # the instance's data at this step

    # -- decision tables -------------------------------------------------------------------

    @abstractmethod
    def decide(self, table: str, facts: dict) -> list[dict]:
        """Every matching rule's outputs of the decision `table`, in table order.

        The instance's own version answers; a version deployed before the table existed
        is answered by the shipped default's table. NoSuchTable when neither has it.
        """

    @abstractmethod
    def decide_of(self, procedure: str, table: str, facts: dict) -> list[dict]:
        """`decide` with another procedure's table, as this instance's region runs it now
        (the newest version of `procedure` for the instance's variant): a certificate
        exchange judges by the graduation tables. NoSuchTable when it has none."""

    def decide_first(self, table: str, facts: dict) -> dict:
        """The first matching rule's outputs; a table without a catch-all rule that matches
        nothing is a fault of the table (ValueError naming it)."""
        rows = self.decide(table, facts)
        if not rows:
            raise ValueError(f"决策表“{table}”没有适用于 {facts} 的规则（应有兜底规则）")
        return dict(rows[0])

    # -- telling, starting, holding --------------------------------------------------------

    @abstractmethod
    def tell_school(self, school_id: int, kind: str, message: str) -> None:
        """A notice about this instance to a school (`completed`, `rejected`, …)."""

    @abstractmethod
    def start_procedure(self, procedure: str, student: Any, data: dict, why: str) -> int:
        """The platform starts a follow-up procedure for `student` in this transaction;
        returns its instance id. The caller checks first that nothing else holds the student."""

    @abstractmethod
    def hold_student(self, student_id: int) -> None:
        """This instance holds the student: no other procedure starts for it meanwhile."""

    @abstractmethod
    def release_student(self) -> None:
        """This instance lets go of its student (it may stay open, e.g. waiting for a date)."""

    @abstractmethod
    def name_partner_school(self, school_id: int) -> None:
        """The other school of a two-sided procedure, once known (a county placed the student)."""

    @abstractmethod
    def rescope_students(self, student_ids: Iterable[int]) -> None:
        """Who may see these records follows their schools again (after a bulk write)."""
