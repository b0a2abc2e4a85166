"""Media files from the data dir, served at ``MEDIA_URL`` (``/system/...``).

WhiteNoise serves only static files. When the default storage is the filesystem
(no ``TRIBUNE_MEDIA_URL``), this view serves what Tribune wrote there, as the web
server in front of Mastodon serves ``/system``. Only names under the public folders
(``media.storage.PUBLIC_FOLDERS``) are served; raw uploads, anything else in the
data dir and any path with ``..`` are answered 404. With S3-compatible storage the
files' URLs point at the bucket and this view answers 404 to everything.
"""

from __future__ import annotations

from django.core.files.storage import FileSystemStorage, default_storage
from django.http import Http404, HttpRequest, HttpResponseBase
from django.views.decorators.http import require_safe
from django.views.static import serve

from tribune.media.storage import PUBLIC_CACHE_CONTROL, content_type, is_public_name

# A media file is never a page: nothing in it may run, load or submit anything,
# even if a browser were talked into rendering it as a document.
MEDIA_HEADERS = {
    "Cache-Control": PUBLIC_CACHE_CONTROL,
    "Content-Security-Policy": "default-src 'none'; form-action 'none'; sandbox",
    "X-Content-Type-Options": "nosniff",
    # Web clients on other origins read media (Mastodon allows this too).
    "Access-Control-Allow-Origin": "*",
    "Cross-Origin-Resource-Policy": "cross-origin",
}


@require_safe
def media_file(request: HttpRequest, path: str) -> HttpResponseBase:
    """The public media file at storage name ``path`` (GET and HEAD), 404 if it
    is missing, not public or the storage is not the filesystem."""
    if not isinstance(default_storage, FileSystemStorage) or not is_public_name(path):
        raise Http404
    # serve() joins safely under the storage's root and answers If-Modified-Since.
    response = serve(request, path, document_root=default_storage.location)
    response["Content-Type"] = content_type(path)
    for header, value in MEDIA_HEADERS.items():
        response[header] = value
    return response
