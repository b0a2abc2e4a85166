"""The Mastodon OpenAPI schema that every API response in the suite is checked
against (tests/conftest.py's Api client). Without it those checks cannot run: this
test says so (a skip on a laptop, a failure in CI)."""

from __future__ import annotations

from tests import mastodon_schema


def test_reference_schema_is_present_and_checks_responses():
    mastodon_schema.skip_without_schema()
    status = {"id": "1", "uri": "u", "created_at": "2024-01-01T00:00:00.000Z", "account": {},
              "content": "", "visibility": "public", "sensitive": False, "spoiler_text": "",
              "media_attachments": [], "mentions": [], "tags": [], "emojis": [],
              "reblogs_count": 0, "favourites_count": 0, "replies_count": 0}
    # A status whose account lacks every required field must be refused...
    try:
        mastodon_schema.check("GET", "/api/v1/statuses/1", 200, status)
    except AssertionError as exc:
        assert "required property" in str(exc)
    else:
        raise AssertionError("an incomplete status passed the schema check")
    # ... and a documented error body accepted.
    assert mastodon_schema.check("GET", "/api/v1/statuses/1", 404, {"error": "Record not found"})
