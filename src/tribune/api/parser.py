"""Request parameters as Mastodon clients send them.

Clients send parameters in the query string, as form data (urlencoded or multipart,
with or without a Content-Type) or as JSON, and arrays as ``foo[]=a&foo[]=b`` or nested
``poll[options][]=a`` (Rails conventions). This parser folds all of them into one dict
for django-ninja: ``{"foo": ["a", "b"], "poll": {"options": ["a"]}}``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.http import HttpRequest, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.utils.datastructures import MultiValueDict
from ninja.parser import Parser

_KEY_RE = re.compile(r"\[([^\]]*)\]")


def _split_key(key: str) -> list[str]:
    """``poll[options][]`` -> ["poll", "options", ""]."""
    head = key.split("[", 1)[0]
    return [head, *_KEY_RE.findall(key[len(head):])]


def fold(data: MultiValueDict, list_fields: list[str] | None = None) -> dict[str, Any]:
    """Rails-style keys of ``data`` as a nested dict; ``[]`` keys become lists, and so
    do keys named in ``list_fields``."""
    result: dict[str, Any] = {}
    list_fields = list_fields or []
    for key in data:
        parts = [p for p in _split_key(key)]
        if "" in parts[:-1]:
            _fold_list_of_hashes(result, parts, data.getlist(key))
            continue
        is_list = parts[-1] == "" or parts[0] in list_fields
        path = [p for p in parts if p != ""] or [key]
        values = data.getlist(key)
        node = result
        for part in path[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[path[-1]] = values if is_list else values[-1]
    return result


def _fold_list_of_hashes(result: dict[str, Any], parts: list[str], values: list[str]) -> None:
    """``a[][b]=1&a[][c]=2&a[][b]=3`` (Rails' array of hashes): the n-th value of
    each field goes to the n-th hash, ``{"a": [{"b": "1", "c": "2"}, {"b": "3"}]}``.
    A form keeps each key's values in order, not the order between keys, so
    entries are matched by position, which is what clients that send every field
    of every entry (as Mastodon's own interface does) mean."""
    at = parts.index("")
    node = result
    for part in parts[:at - 1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    items = node.get(parts[at - 1])
    if not isinstance(items, list):
        items = node[parts[at - 1]] = []
    rest = parts[at + 1:]
    for index, value in enumerate(values):
        while len(items) <= index:
            items.append({})
        if not isinstance(items[index], dict):
            items[index] = {}
        entry = items[index]
        for part in rest[:-1]:
            child = entry.get(part)
            if not isinstance(child, dict):
                child = entry[part] = {}
            entry = child
        entry[rest[-1] or "value"] = value


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value
    return base


def _check_text(value: Any) -> None:
    """Refuse strings that cannot be UTF-8 (lone surrogates such as "\\ud800", which
    JSON can spell) and strings with a NUL character, which PostgreSQL's text
    cannot hold: ValueError, answered as 400 like any unparsable body."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("text is not valid Unicode") from None
        if "\x00" in value:
            raise ValueError("text must not contain NUL characters")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_text(item)


def body_params(request: HttpRequest) -> dict[str, Any]:
    """The request's body parameters (JSON or form), merged over its query string.

    Raises ValueError for a body that claims to be JSON and is not an object (or
    is nested too deeply to be read).
    """
    params = fold(request.GET)
    content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    if content_type.endswith("json"):
        if request.body:
            try:
                data = json.loads(request.body)
            except RecursionError:  # nested deeper than the parser follows
                raise ValueError("JSON body is nested too deeply") from None
            if not isinstance(data, dict):
                raise ValueError("JSON body must be an object")
            _merge(params, data)
        return params
    if request.method == "POST":
        form = request.POST
    else:  # Django parses bodies of POST only; PUT/PATCH forms are parsed here.
        form = _parse_form(request, content_type)
    return _merge(params, fold(form))


def checked_body_params(request: HttpRequest) -> dict[str, Any]:
    """:func:`body_params`, refusing text that is not valid Unicode."""
    params = body_params(request)
    _check_text(params)
    return params


def _parse_form(request: HttpRequest, content_type: str) -> MultiValueDict:
    if content_type.startswith("multipart/"):
        try:
            form, files = request.parse_file_upload(request.META, request)
        except MultiPartParserError:
            raise ValueError("Malformed multipart body") from None
        request._files = files  # type: ignore[attr-defined]
        return form
    try:
        return QueryDict(request.body, encoding=request.encoding)
    except Exception:
        raise ValueError("Malformed form body") from None


class MastodonParser(Parser):
    """django-ninja parser that accepts query, form and JSON parameters alike."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        return checked_body_params(request)

    def parse_querydict(self, data: MultiValueDict, list_fields: list[str], request: HttpRequest) -> dict[str, Any]:
        return fold(data, list_fields)
