"""Media files in an S3-compatible bucket (``TRIBUNE_MEDIA_URL=s3://...``)."""

from __future__ import annotations

import posixpath

from storages.backends.s3 import S3Storage

from tribune.media.storage import PUBLIC_CACHE_CONTROL, content_type, is_public_name


class PublicS3Storage(S3Storage):
    """django-storages' S3 backend with Tribune's rules: plain unsigned URLs
    (media is public), no overwriting of an existing name, Content-Type from the
    extension, a year's Cache-Control on public files, and with ``public_acl`` the
    ``public-read`` ACL on files under ``PUBLIC_FOLDERS`` and ``private`` on the
    rest (raw uploads)."""

    querystring_auth = False
    file_overwrite = False

    def get_default_settings(self) -> dict:
        """django-storages' settings plus ``public_acl`` (off)."""
        return {**super().get_default_settings(), "public_acl": False}

    def get_object_parameters(self, name: str) -> dict:
        """Upload parameters for the object at key ``name`` (prefix included)."""
        params = super().get_object_parameters(name)
        relative = posixpath.relpath(name, self.location) if self.location else name
        params.setdefault("ContentType", content_type(relative))
        public = is_public_name(relative)
        if public:
            params.setdefault("CacheControl", PUBLIC_CACHE_CONTROL)
        if self.public_acl:
            params.setdefault("ACL", "public-read" if public else "private")
        return params
