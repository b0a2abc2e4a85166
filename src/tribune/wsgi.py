"""WSGI entry point (served by gunicorn; see ARCHITECTURE.md on why WSGI)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tribune.settings")
application = get_wsgi_application()
