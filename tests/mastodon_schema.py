"""Checks API responses against the Mastodon OpenAPI schema (the reference copy kept
beside the project, or the file named by TRIBUNE_MASTODON_OPENAPI).

``check(method, path, status, body)`` finds the operation for the path in the
schema, takes the response schema for the status code, and validates the body with
JSON Schema 2020-12; it raises AssertionError naming the first violation.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "mastodon-openapi.json"


def schema_path() -> Path:
    return Path(os.environ.get("TRIBUNE_MASTODON_OPENAPI", DEFAULT))


def require_services() -> bool:
    return os.environ.get("TRIBUNE_REQUIRE_SERVICES") == "1"


@functools.cache
def spec() -> dict | None:
    """The reference schema, or None when it is absent (tests/test_reference_schema.py
    then skips, or fails under TRIBUNE_REQUIRE_SERVICES=1, saying so)."""
    path = schema_path()
    if not path.exists():
        return None
    return json.loads(path.read_text())


@functools.cache
def _routes() -> list[tuple[re.Pattern, str]]:
    routes = []
    for template in (spec() or {}).get("paths", {}):
        regex = re.sub(r"\\\{[^}]+\\\}", r"[^/]+", re.escape(template))
        routes.append((re.compile(f"^{regex}/?$"), template))
    # Literal segments beat parameters (/accounts/lookup before /accounts/{id}).
    routes.sort(key=lambda r: r[1].count("{"))
    return routes


def _patched(document: dict) -> dict:
    """The reference with one fault of its own mended: ``Status.quote`` is a
    ``oneOf`` Quote, ShallowQuote or null, but neither object forbids other keys and
    each requires only ``state``, so every Quote also matches ShallowQuote and no
    quote could ever pass; ``anyOf`` keeps both shapes checked."""
    status = document.get("components", {}).get("schemas", {}).get("Status")
    quote = (status or {}).get("properties", {}).get("quote")
    if quote and "oneOf" in quote:
        document = copy.deepcopy(document)
        quote = document["components"]["schemas"]["Status"]["properties"]["quote"]
        quote["anyOf"] = quote.pop("oneOf")
    return document


@functools.cache
def _validator(pointer_json: str) -> Draft202012Validator:
    document = _patched(dict(spec()))
    document.update(json.loads(pointer_json))
    return Draft202012Validator(document)


def response_schema(method: str, path: str, status: int) -> dict | None:
    """The schema the reference gives for this response, or None if it has none."""
    for regex, template in _routes():
        if regex.match(path):
            operation = spec()["paths"][template].get(method.lower())
            if operation is None:
                return None
            response = operation.get("responses", {}).get(str(status))
            if not response:
                return None
            return response.get("content", {}).get("application/json", {}).get("schema")
    return None


def check(method: str, path: str, status: int, body) -> bool:
    """Validate one response; True if it was checked, False if the reference has no
    schema for it (unknown path or no JSON schema)."""
    if spec() is None:
        return False
    schema = response_schema(method, path, status)
    if schema is None:
        return False
    validator = _validator(json.dumps(schema))
    error = next(iter(validator.iter_errors(body)), None)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path)
        raise AssertionError(
            f"{method} {path} -> {status}: {error.message} at '{where}' "
            f"(schema {'/'.join(str(p) for p in error.absolute_schema_path)})")
    return True


def skip_without_schema() -> None:
    """Skip the calling test when the reference schema is absent, unless services are
    required (CI), where that is a failure."""
    if spec() is None:
        message = (f"the Mastodon OpenAPI schema is not at {schema_path()} "
                   "(set TRIBUNE_MASTODON_OPENAPI to its path)")
        if require_services():
            pytest.fail(message)
        pytest.skip(message)
