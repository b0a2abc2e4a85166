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
