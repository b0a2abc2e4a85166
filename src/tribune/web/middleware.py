"""The interface language: the signed-in person's setting, else Accept-Language."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers

from tribune.timelines.services import account_seen


class UserLanguageMiddleware:
    """Activate ``Account.locale`` for a signed-in person who chose one, and note
    that the person is active (``timelines.services.account_seen``).

    Runs after Django's LocaleMiddleware (which applied Accept-Language) and the
    authentication middleware; LocaleMiddleware's response step then reports the
    active language in ``Content-Language``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            account = getattr(user, "account", None)
            if account is not None:
                account_seen(account=account)
            if account is not None and account.locale:
                translation.activate(account.locale)
                request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        patch_vary_headers(response, ["Cookie"])
        return response
