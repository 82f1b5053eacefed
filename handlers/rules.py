"""Named rules: each a function with a name and a Chinese message, registered once.

The rule's name is what a rejection shows and what the tests assert.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Verdict:
    ok: bool
    rule: str | None = None
    message: str | None = None

    def result(self, **facts) -> dict:
        """What a check handler returns to the BPMN: the verdict plus routing facts."""
        return {"ok": self.ok, "rule": self.rule, "message": self.message, **facts}


@dataclass(frozen=True)
class Rule:
    name: str
    message: str
    check: Callable[[Any], bool]  # True when the facts satisfy the rule


class RuleSet:
    def __init__(self) -> None:
        self.rules: list[Rule] = []

    def rule(self, name: str, message: str):
        def register(fn: Callable[[Any], bool]):
            self.add(Rule(name, message, fn))
            return fn

        return register

    def add(self, rule: Rule) -> Rule:
        """Register a rule shared by several procedures (defined once elsewhere)."""
        if any(r.name == rule.name for r in self.rules):
            raise ValueError(f"rule {rule.name} registered twice")
        self.rules.append(rule)
        return rule

    def first_failure(self, facts: Any) -> Verdict:
        for r in self.rules:
            if not r.check(facts):
                return Verdict(False, r.name, r.message.format(f=facts))
        return Verdict(True)

    def names(self) -> list[str]:
        return [r.name for r in self.rules]
