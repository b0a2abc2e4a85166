"""Whether a request asks for ActivityStreams or for the web page (content
negotiation on ``Accept``, RFC 9110 §12.5.1).

ActivityPub §3.2: servers serve an object as ActivityStreams to
``application/ld+json; profile="https://www.w3.org/ns/activitystreams"`` and
should to ``application/activity+json``. Like Mastodon, nothing else gets it:
``application/json``, ``*/*`` and no ``Accept`` at all get the web page.
"""

from __future__ import annotations

AS_PROFILE = "https://www.w3.org/ns/activitystreams"
HTML_TYPES = {"text/html", "application/xhtml+xml", "text/*", "*/*"}


def _ranges(accept: str):
    """``(media type, parameters, q)`` for each media range of ``accept``; a
    malformed q counts as 0 (the range is ignored)."""
    for item in accept.split(","):
        media_type, *raw_params = (part.strip() for part in item.split(";"))
        params: dict[str, str] = {}
        for raw in raw_params:
            name, _eq, value = raw.partition("=")
            params[name.strip().lower()] = value.strip().strip('"')
        try:
            q = float(params.pop("q", "1"))
        except ValueError:
            q = 0.0
        yield media_type.lower(), params, q if 0 <= q <= 1 else 0.0


def _is_activitystreams(media_type: str, params: dict[str, str]) -> bool:
    if media_type == "application/activity+json":
        return True
    if media_type != "application/ld+json":
        return False
    # ld+json names ActivityStreams with its profile; without one it is taken as
    # meant for us (Mastodon's mime type matching ignores the parameter).
    profiles = params.get("profile", AS_PROFILE).split()
    return AS_PROFILE in profiles


def wants_activitystreams(accept: str | None) -> bool:
    """True when ``accept`` prefers an ActivityStreams type: one is acceptable
    (q > 0) and no HTML type (or wildcard) is given a higher q. Equal q goes to
    ActivityStreams, which a client named explicitly."""
    as_q = html_q = 0.0
    for media_type, params, q in _ranges(accept or ""):
        if _is_activitystreams(media_type, params):
            as_q = max(as_q, q)
        elif media_type in HTML_TYPES:
            html_q = max(html_q, q)
    return as_q > 0 and as_q >= html_q


def is_activitystreams_type(content_type: str | None) -> bool:
    """True when a response's ``Content-Type`` is an ActivityStreams type:
    ``application/activity+json``, or ``application/ld+json`` with the
    ActivityStreams profile (ActivityPub §3.2). Anything else (``application/json``,
    an image, text) is not a document to read as an object, whatever its body says.
    """
    media_type, *raw_params = (part.strip() for part in (content_type or "").split(";"))
    media_type = media_type.lower()
    if media_type == "application/activity+json":
        return True
    if media_type != "application/ld+json":
        return False
    for raw in raw_params:
        name, _eq, value = raw.partition("=")
        if name.strip().lower() == "profile":
            return AS_PROFILE in value.strip().strip('"').split()
    return False
