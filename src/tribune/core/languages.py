"""Language codes as statuses and preferences carry them."""

from __future__ import annotations

import re

# ISO 639-1/-2 codes, optionally with BCP 47 subtags ("en", "fr", "pt-BR", "zh-Hant").
_LANGUAGE_RE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")


def is_language_code(code: str) -> bool:
    """Whether ``code`` has the shape of a language tag (at most 10 characters)."""
    return len(code) <= 10 and _LANGUAGE_RE.fullmatch(code) is not None
