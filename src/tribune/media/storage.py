"""Where media files live: Django's default storage, chosen by ``TRIBUNE_MEDIA_URL``.

Unset, files go under ``TRIBUNE_DATA_DIR/media`` (``FileSystemStorage``) and the
server itself serves them at ``MEDIA_URL`` (``web.media_files``). Set to
``s3://BUCKET[/PREFIX]``, they go to any S3-compatible service through
django-storages (``media.s3.PublicS3Storage``) and their URLs point at the bucket
or at ``public_url``, unsigned: media files are public, as on Mastodon.

This module is read by the settings, so it imports nothing that is slow to load
(boto3 is loaded only when the S3 backend is used).
"""

from __future__ import annotations

import mimetypes
import posixpath
import re
from collections.abc import Mapping
from urllib.parse import parse_qs, urlsplit

from django.core.exceptions import ImproperlyConfigured

# The folders of the default storage whose files anyone may read. Raw uploads
# (``uploads/``, before processing strips their metadata) are never among them.
PUBLIC_FOLDERS = ("media_attachments", "accounts", "cards")

# The types of the files Tribune writes, so that a file is served with the same
# type whatever the machine's mime.types says.
CONTENT_TYPES = {
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
    ".gif": "image/gif", ".webp": "image/webp", ".avif": "image/avif",
    ".mp4": "video/mp4", ".webm": "video/webm", ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4", ".ogg": "audio/ogg", ".opus": "audio/ogg",
}

# Files are named by id and never rewritten, so caches may keep them for a year.
PUBLIC_CACHE_CONTROL = "public, max-age=31536000, immutable"

S3_PARAMETERS = ("endpoint", "region", "public_url", "acl")
S3_FORM = ("s3://BUCKET[/PREFIX] with optional ?endpoint=URL&region=NAME"
           "&public_url=URL&acl=public-read")
# Amazon's bucket naming rules, which other S3-compatible services follow.
BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
REGION_RE = re.compile(r"[A-Za-z0-9-]{1,64}")
S3_BACKEND = "tribune.media.s3.PublicS3Storage"
FILESYSTEM_BACKEND = "django.core.files.storage.FileSystemStorage"


def is_public_name(name: str) -> bool:
    """True when the storage name ``name`` is a file anyone may read: a plain
    relative path (no empty, ``.``, ``..`` or hidden segment, no backslash or NUL)
    under one of ``PUBLIC_FOLDERS``."""
    if "\\" in name or "\x00" in name:
        return False
    segments = name.split("/")
    if len(segments) < 2 or segments[0] not in PUBLIC_FOLDERS:
        return False
    return all(segment and not segment.startswith(".") for segment in segments)


def content_type(name: str) -> str:
    """The Content-Type a media file is served with, from its extension."""
    extension = posixpath.splitext(name)[1].lower()
    return (CONTENT_TYPES.get(extension) or mimetypes.guess_type(name)[0]
            or "application/octet-stream")


def _fail(problem: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"TRIBUNE_MEDIA_URL {problem}; the form is {S3_FORM}")


def _http_url(name: str, value: str) -> tuple[str, str, str]:
    """``value`` split into scheme, host and path if it is an http(s) URL."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query \
            or parts.fragment or parts.username:
        raise _fail(f"has {name}={value!r}, which is not an http:// or https:// URL")
    return parts.scheme, parts.netloc, parts.path.rstrip("/")


def media_storage(value: str, *, environ: Mapping[str, str]) -> dict:
    """The ``STORAGES["default"]`` entry for ``TRIBUNE_MEDIA_URL=value``.

    An empty value keeps files in ``MEDIA_ROOT``. ``s3://BUCKET[/PREFIX]`` takes the
    query parameters ``endpoint`` (a custom service; path-style addressing),
    ``region``, ``public_url`` (the base of the files' URLs, e.g. a CDN in front of
    the bucket) and ``acl=public-read`` (mark public files so on upload, for
    services without a public bucket policy). Credentials come from
    ``TRIBUNE_S3_ACCESS_KEY`` and ``TRIBUNE_S3_SECRET_KEY`` in ``environ``, else
    from the usual AWS variables and files. Raises ImproperlyConfigured with one
    line naming the problem.
    """
    value = value.strip()
    if not value:
        return {"BACKEND": FILESYSTEM_BACKEND}
    parts = urlsplit(value)
    if parts.scheme != "s3":
        raise _fail(f"must start with s3://; got {value!r}")
    if "@" in parts.netloc:
        # Never echo the value: it may hold a secret.
        raise _fail("must not hold credentials; set TRIBUNE_S3_ACCESS_KEY and "
                    "TRIBUNE_S3_SECRET_KEY instead")
    bucket = parts.netloc
    if not bucket:
        raise _fail(f"names no bucket; got {value!r}")
    if not BUCKET_RE.fullmatch(bucket) or ".." in bucket:
        raise _fail(f"has {bucket!r} as its bucket; a bucket name is 3 to 63 lower-case "
                    "letters, digits, dots and hyphens")
    prefix = parts.path.strip("/")
    if prefix and not all(s and s not in (".", "..") for s in prefix.split("/")):
        raise _fail(f"has {prefix!r} as its prefix, which is not a plain folder path")
    if parts.fragment:
        raise _fail(f"must not have a #fragment; got {value!r}")
    try:
        query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        raise _fail(f"has a malformed query string {parts.query!r}") from None
    for key, values in query.items():
        if key not in S3_PARAMETERS:
            raise _fail(f"has an unknown parameter {key!r} (known: {', '.join(S3_PARAMETERS)})")
        if len(values) > 1:
            raise _fail(f"has the parameter {key!r} more than once")
    params = {key: values[0] for key, values in query.items()}

    options: dict[str, object] = {"bucket_name": bucket, "location": prefix}
    if "endpoint" in params:
        scheme, netloc, path = _http_url("endpoint", params["endpoint"])
        options["endpoint_url"] = f"{scheme}://{netloc}{path}"
        # Custom services rarely resolve BUCKET.host names.
        options["addressing_style"] = "path"
    if "region" in params:
        if not REGION_RE.fullmatch(params["region"]):
            raise _fail(f"has region={params['region']!r}, which is not a region name")
        options["region_name"] = params["region"]
    if "public_url" in params:
        scheme, netloc, path = _http_url("public_url", params["public_url"])
        options["url_protocol"] = f"{scheme}:"
        options["custom_domain"] = f"{netloc}{path}"
    if "acl" in params:
        if params["acl"] != "public-read":
            raise _fail(f"has acl={params['acl']!r}; the only value is public-read")
        options["public_acl"] = True

    access_key = environ.get("TRIBUNE_S3_ACCESS_KEY", "")
    secret_key = environ.get("TRIBUNE_S3_SECRET_KEY", "")
    if bool(access_key) != bool(secret_key):
        raise ImproperlyConfigured(
            "TRIBUNE_S3_ACCESS_KEY and TRIBUNE_S3_SECRET_KEY must be set together")
    if access_key:
        options["access_key"] = access_key
        options["secret_key"] = secret_key
    return {"BACKEND": S3_BACKEND, "OPTIONS": options}


def storage_errors() -> tuple[type[BaseException], ...]:
    """The exceptions a storage backend raises when it cannot be reached or refuses
    a write: OSError for the filesystem, botocore's errors for S3 (when installed)."""
    errors: tuple[type[BaseException], ...] = (OSError,)
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        return errors
    return (*errors, BotoCoreError, ClientError)
