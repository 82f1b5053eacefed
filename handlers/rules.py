"""Named rules: each a function with a name and a Chinese message, registered once.

The rule's name is what a rejection shows and what the tests assert. Every RuleSet made
anywhere (a handler module, a region's own module) joins `RULESETS`, so the rule list
(`xueji rules`, the admin page 规则清单) is generated from the code and never hand-kept.
A rule's passage (the document it comes from, e.g. "000 第二十二条") is stated once: in
its message, in Chinese brackets "（⑦ 第十条）", or, where the message has none, as
`source=`.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .rule_titles import TITLES

# A citation of a seed document in a message: "（⑦ 第十条，000 第十七条）"; or, unbracketed,
# a document number with its passage: "000 第十八条", "003 篇10 四", "000 第二部分 说明1".
CITATION = re.compile(r"（([^（）]*(?:\b00\d\b|⑦)[^（）]*)）")
_PART = r"(?:第二部分|§\S+?|⑦|篇\d+|第[一二三四五六七八九十百零]+条(?:\.\d+)?|说明\d+|[一二三四五六七八九十]+(?=\s|$))"
BARE_CITATION = re.compile(rf"(?:\b00\d\b|⑦)(?:\s*{_PART})+")


def one_stop(text: str) -> str:
    """A message joined from parts (a table's basis ending in "。" before the rule's own
    "。") reads with one full stop, never "。。"."""
    return re.sub(r"。[。.]+", "。", text)


def cited_passage(message: str) -> str:
    """The last bracketed citation in a message, else its last bare one ("" when none)."""
    found = CITATION.findall(message) or BARE_CITATION.findall(message)
    return found[-1].strip() if found else ""


@dataclass(frozen=True)
class Verdict:
    ok: bool
    rule: str | None = None
    message: str | None = None

    def result(self, **facts) -> dict:
        """What a check handler returns to the BPMN: the verdict plus routing facts.
        `correctable`: the failed rule judges what the applicant typed on the form, so a
        reviewer may return the case for correction instead of ending it."""
        correctable = not self.ok and bool(fields_of(self.rule))
        return {
            "ok": self.ok,
            "rule": self.rule,
            "message": self.message,
            "correctable": correctable,
            **facts,
        }

    @property
    def title(self) -> str:
        return title_of(self.rule)


@dataclass(frozen=True)
class Rule:
    name: str
    message: str
    check: Callable[[Any], bool]  # True when the facts satisfy the rule
    source: str = ""  # the passage, where the message cites none

    @property
    def passage(self) -> str:
        return self.source or cited_passage(self.message)

    @property
    def title(self) -> str:
        """The Chinese title a registrar reads (the name stays the id)."""
        return title_of(self.name)

    @property
    def fields(self) -> tuple[str, ...]:
        """The start-form fields the rule judges (a refusal is shown beside them)."""
        return fields_of(self.name)


def title_of(name: str | None) -> str:
    """A rule's Chinese title; a name without one (a region's own rule) reads as 规则检查."""
    return TITLES.get(name or "", ("规则检查", ()))[0]


def fields_of(name: str | None) -> tuple[str, ...]:
    """The form fields a rule judges (none for a rule on the student, or a region's own)."""
    return TITLES.get(name or "", ("", ()))[1]


RULESETS: list[RuleSet] = []


class RuleSet:
    """The rules one procedure checks, in order. `procedure` defaults to the key of the
    module that makes it (handlers/<key>.py, one module per procedure key)."""

    def __init__(self, procedure: str | None = None) -> None:
        self.rules: list[Rule] = []
        self.module: str = sys._getframe(1).f_globals.get("__name__", "")
        self.procedure: str = procedure or self.module.rpartition(".")[2]
        RULESETS.append(self)

    def rule(self, name: str, message: str, source: str = ""):
        def register(fn: Callable[[Any], bool]):
            self.add(Rule(name, message, fn, source))
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
                return Verdict(False, r.name, one_stop(r.message.format(f=facts)))
        return Verdict(True)

    def names(self) -> list[str]:
        return [r.name for r in self.rules]
