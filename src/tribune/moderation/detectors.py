"""Automated flaggers: pluggable detectors that look at a status and say what they
found, with a score. Their findings only open or reprioritise a case
(``services.flag_create``); no detector can hide a post or touch an account.

A detector is any object with ``name``, ``version`` and ``scan(status) ->
list[Detection]``; ``DETECTORS`` lists the ones that run on every new or edited
local status. ``PdqDetector`` (perceptual image hashes against the local hash bank)
is listed when its optional dependencies are installed; until statuses carry media
it is given images through ``scan_image`` (``hashing.image_scan``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

import regex

from tribune.core.errors import ValidationFailed
from tribune.moderation import hashing
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
                found.append(Detection(label=f"matched “{rule.pattern}”", score=1.0,
                                       tier=rule.severity_tier))
        return found


class PdqDetector:
    """Matches images against the hash bank with Meta's PDQ (``hashing``): each bank
    entry within Hamming distance 31 is reported once, at the entry's tier (P1 by
    default), scored by the share of equal bits. Unavailable (and skipped) when the
    ``hashing`` extra is not installed."""

    name = "pdq"

    @property
    def version(self) -> str:
        return hashing.pdq_version()

    @property
    def available(self) -> bool:
        return hashing.available()

    def scan(self, status: Status) -> list[Detection]:
        """Findings for every processed picture of ``status`` (an image, or the
        preview frame of a video or gifv)."""
        if not self.available:
            return []
        found = []
        for image in hashing.status_images(status.pk):
            try:
                found.extend(self.scan_image(status, image))
            except ValidationFailed:
                continue  # not a picture Pillow reads: nothing to match
        return found

    def scan_image(self, status: Status, image_bytes: bytes) -> list[Detection]:
        """Findings for one image of ``status``; none when unavailable. Raises
        ValidationFailed for bytes that are not an image."""
        if not self.available:
            return []
        return [Detection(label=f"PDQ match with {entry.label or 'hash bank entry'} "
                                f"#{entry.pk} at distance {distance}/{hashing.HASH_BITS}",
                          score=round(1 - distance / hashing.HASH_BITS, 3),
                          tier=entry.severity_tier)
                for entry, distance in hashing.hash_bank_match(image_bytes)]


DETECTORS: list[Detector] = [KeywordDetector(),
                             *([PdqDetector()] if hashing.available() else [])]
