"""Automated flaggers: pluggable detectors that look at a status and say what they
found, with a score. Their findings only open or reprioritise a case
(``services.flag_create``); no detector can hide a post or touch an account.

A detector is any object with ``name``, ``version`` and ``scan(status) ->
list[Detection]``; ``DETECTORS`` lists the ones that run on every new or edited
local status. The perceptual image-hash matcher joins them with media support.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

import regex

from tribune.moderation.models import FlagRule, Tier
from tribune.statuses.models import Status


@dataclass(frozen=True)
class Detection:
    """One finding: ``label`` (what matched), ``score`` in [0, 1], ``tier`` the
    severity tier the case should have at least."""

    label: str
    score: float
    tier: int = Tier.P3


class Detector(Protocol):
    name: str
    version: str

    def scan(self, status: Status) -> list[Detection]: ...


class KeywordDetector:
    """Matches the operator's ``FlagRule``s (words, case-insensitive and on word
    boundaries, or regular expressions) against a status's text and content
    warning. A match scores 1.0; each rule is reported once."""

    name = "keywords"
    version = "1"
    TIMEOUT = 0.05  # seconds per pattern: an operator's regex cannot stall a worker

    def scan(self, status: Status) -> list[Detection]:
        text = f"{status.spoiler_text}\n{status.text}"
        found = []
        for rule in FlagRule.objects.filter(enabled=True).order_by("id"):
            pattern = rule.pattern if rule.is_regex else rf"\b{re.escape(rule.pattern)}\b"
            try:
                hit = regex.search(pattern, text, flags=regex.IGNORECASE | regex.V1,
                                   timeout=self.TIMEOUT)
            except (regex.error, TimeoutError):
                continue  # a broken or runaway pattern flags nothing
            if hit:
                found.append(Detection(label=f"matched {rule.pattern!r}", score=1.0,
                                       tier=rule.severity_tier))
        return found


DETECTORS: list[Detector] = [KeywordDetector()]
