"""``{{ account|avatar_src }}`` and ``{{ account|header_src }}``: the URL of an
account's avatar or header for an ``<img>``, its own picture or the default one."""

from __future__ import annotations

from django import template

from tribune.accounts.models import Account
from tribune.accounts.selectors import account_image_src

register = template.Library()


@register.filter
def avatar_src(account: Account) -> str:
    """The account's avatar URL (the default image when it has none)."""
    return account_image_src(account, "avatar")


@register.filter
def header_src(account: Account) -> str:
    """The account's header URL (the default image when it has none)."""
    return account_image_src(account, "header")



@register.filter
def post_html(content: str, status) -> str:
    """``content`` (a post's HTML, or one of its edits') ready to show: for a
    remote ``status`` the HTML came from another server and is run through the
    allow-list again on the way out, besides the pass before storage; a local
    post's was rendered here from plain text and sanitised when written."""
    from django.utils.safestring import mark_safe

    from tribune.core.text import sanitize

    if not status.account.is_local:
        content = sanitize(content)
    return mark_safe(content)
