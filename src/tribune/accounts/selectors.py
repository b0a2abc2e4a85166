"""Reads of accounts."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from tribune.accounts.models import Account, Invite
from tribune.core.errors import NotFound
from tribune.core.ids import parse_id
from tribune.core.pagination import Cursor, Page, paginate
from tribune.core.urls import absolute


def _public() -> QuerySet[Account]:
    """Accounts anyone may see: not suspended, not awaiting approval (Mastodon
    answers 404 for an unapproved account too, AccountsController), and not of a
    suspended domain (its accounts are hidden as Mastodon hides them)."""
    from tribune.accounts.models import DomainBlock

    return Account.objects.filter(suspended_at__isnull=True,
                                  approval_request__isnull=True).exclude(
        domain__in=DomainBlock.objects.filter(severity="suspend").values("domain"))


def account_get(*, account_id: int | str) -> Account:
    """The account with this id; NotFound if there is none (or the id is malformed)."""
    try:
        return _public().get(pk=parse_id(account_id))
    except (Account.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound(_("Record not found")) from None


def _for_staff() -> QuerySet[Account]:
    """Every account, with what staff tools present (the login and a pending
    sign-up's request) in the same query."""
    return Account.objects.select_related("user", "approval_request")


def account_get_for_staff(*, account_id: int | str) -> Account:
    """The account with this id, also when suspended or awaiting approval (for staff
    tools, which must see what the public may not); NotFound otherwise."""
    try:
        return _for_staff().get(pk=parse_id(account_id))
    except (Account.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound(_("Record not found")) from None


class Origin(enum.StrEnum):
    LOCAL = "local"
    REMOTE = "remote"


class Standing(enum.StrEnum):
    """The account states staff filter on (Mastodon's AccountFilter ``status``)."""

    ACTIVE = "active"
    PENDING = "pending"
    DISABLED = "disabled"
    SILENCED = "silenced"
    SUSPENDED = "suspended"
    SENSITIZED = "sensitized"


@dataclass(frozen=True)
class StaffAccountFilter:
    """What staff may narrow the account list by, as Mastodon's AccountFilter does
    (app/models/account_filter.rb). None or "" leaves a criterion out. Text
    criteria match case-insensitively from the start (Mastodon's ``matches_*``
    scopes, ``value%``); ``by_domain`` is exact."""

    origin: Origin | None = None
    status: Standing | None = None
    staff: bool = False
    username: str = ""
    display_name: str = ""
    by_domain: str = ""
    email: str = ""
    ip: str = ""


def _disabled_q() -> Q:
    # A freeze (read-only), or a login switched off by the operator: not pending.
    inactive = Q(user__is_active=False, approval_request__isnull=True)
    return Q(frozen_at__isnull=False) | inactive


def account_list_for_staff(*, filters: StaffAccountFilter, cursor: Cursor) -> Page:
    """One page of accounts for staff (Mastodon's ``GET /api/v1/admin/accounts``),
    newest first, with their logins and pending requests in the same query.

    ``active`` is not suspended (pending sign-ups included, as in Mastodon);
    ``pending`` awaits approval; ``disabled`` is frozen or has its login switched
    off; ``silenced``, ``sensitized`` and ``ip`` match nothing: Tribune has no
    account-wide silence or sensitive mark and keeps no IP addresses. ``staff`` is
    a login with staff rights (those who handle reports).
    """
    qs = _for_staff()
    if filters.origin == Origin.LOCAL:
        qs = qs.filter(domain="")
    elif filters.origin == Origin.REMOTE:
        qs = qs.exclude(domain="")
    status_q = {
        Standing.ACTIVE: Q(suspended_at__isnull=True),
        Standing.PENDING: Q(approval_request__isnull=False),
        Standing.DISABLED: _disabled_q(),
        Standing.SUSPENDED: Q(suspended_at__isnull=False),
    }
    if filters.status is not None:
        qs = qs.filter(status_q[filters.status]) if filters.status in status_q else qs.none()
    if filters.staff:
        qs = qs.filter(user__is_staff=True)
    if filters.username.strip():
        qs = qs.filter(username__istartswith=filters.username.strip())
    if filters.display_name.strip():
        qs = qs.filter(display_name__istartswith=filters.display_name.strip())
    if filters.by_domain.strip():
        qs = qs.filter(domain__iexact=filters.by_domain.strip())
    if filters.email.strip():
        qs = qs.filter(user__email__istartswith=filters.email.strip())
    if filters.ip.strip():
        qs = qs.none()
    return paginate(qs, cursor)


def account_lookup(*, acct: str) -> Account:
    """The account for ``user`` or ``user@domain`` (this instance's domain counts as
    local); NotFound otherwise."""
    from django.conf import settings

    acct = acct.strip().lstrip("@")
    username, _at, domain = acct.partition("@")
    if domain.lower() == settings.TRIBUNE_DOMAIN.lower():
        domain = ""
    try:
        return by_handle(_public(), username, domain).get()
    except Account.DoesNotExist:
        raise NotFound(_("Record not found")) from None


def accounts_by_handles(handles: list[str]) -> dict[str, Account]:
    """Local accounts for mentioned handles, keyed by the lower-cased handle as given.

    Remote handles (``user@domain``) resolve only if the account is already known.
    """
    from django.conf import settings

    found: dict[str, Account] = {}
    for handle in handles:
        username, _at, domain = handle.partition("@")
        if domain.lower() == settings.TRIBUNE_DOMAIN.lower():
            domain = ""
        account = by_handle(_public(), username, domain).first()
        if account is not None:
            found[handle.lower()] = account
    return found


def account_profile_url(account: Account) -> str:
    """The account's public profile URL (``/@name`` for local accounts)."""
    return absolute(f"/@{account.username}") if account.is_local else account.url


def account_uri(account: Account) -> str:
    """The account's ActivityPub id (``/users/name`` for local accounts)."""
    return absolute(f"/users/{account.username}") if account.is_local else account.uri


def account_by_uri(uri: str) -> Account | None:
    """The visible account whose ActivityPub id is ``uri`` (``/users/NAME`` on this
    instance, a remote account's stored ``uri``), or None when none is known."""
    uri = uri.strip()
    if not uri:
        return None
    local_prefix = absolute("/users/")
    if uri.startswith(local_prefix):
        username = uri[len(local_prefix):]
        if not username or "/" in username:
            return None
        return by_handle(_public(), username, "").first()
    return _public().filter(uri=uri).exclude(domain="").first()


def account_moved_to(account: Account) -> tuple[str, str] | None:
    """Where ``account`` moved, as a profile page shows it: ``(url, label)``, the
    new account's profile and ``@acct`` when it is known here, else its
    ActivityPub id twice; None when it has not moved."""
    if not account.moved_to_uri:
        return None
    target = account_by_uri(account.moved_to_uri)
    if target is None:
        return account.moved_to_uri, account.moved_to_uri
    return account_profile_url(target), f"@{target.acct}"


def account_url_for_handle(handle: str) -> str | None:
    """Profile URL for a mentioned handle, or None when no such account is known."""
    account = accounts_by_handles([handle]).get(handle.lower())
    return account_profile_url(account) if account else None


def search_accounts(*, query: str, limit: int = 40, offset: int = 0) -> list[Account]:
    """Accounts whose username starts with ``query`` or whose display name contains
    it (local search)."""
    return list(account_search_queryset(query=query)[offset : offset + limit])


def account_search_queryset(*, query: str) -> QuerySet[Account]:
    """The ordered queryset behind search_accounts: ``user`` or ``user@domain``
    (this instance's domain counts as local), most followed first; empty for an
    empty query."""
    from django.db.models import Q

    query = query.strip().lstrip("@")
    username, _at, domain = query.partition("@")
    if not username:
        return Account.objects.none()
    qs = _public().filter(
        Q(username__istartswith=username) | Q(display_name__icontains=username)
    )
    if domain:
        qs = qs.filter(domain__iexact="" if domain.lower() == settings_domain() else domain)
    return qs.order_by("-followers_count", "id")


def accounts_by_ids(ids: list[str] | list[int]) -> list[Account]:
    """The accounts with these ids, in the order given; unknown, suspended and
    malformed ids are skipped (one query)."""
    wanted: list[int] = []
    for raw in ids:
        try:
            wanted.append(parse_id(raw))
        except ValueError:
            continue
    wanted = list(dict.fromkeys(wanted))
    found = {a.pk: a for a in _public().filter(pk__in=wanted)}
    return [found[i] for i in wanted if i in found]


def settings_domain() -> str:
    from django.conf import settings

    return settings.TRIBUNE_DOMAIN.lower()


DEFAULT_AVATAR_PATH = "/avatars/original/missing.png"
DEFAULT_HEADER_PATH = "/headers/original/missing.png"


def account_image_src(account: Account, kind: str) -> str:
    """The URL of ``account``'s avatar or header (``kind``) as a page may use it:
    the stored file's URL as the storage gives it (a path on this site for the data
    dir, the bucket's URL for S3-compatible storage), else the default image's
    path. Reads only the row: no query."""
    field = account.avatar if kind == "avatar" else account.header
    if field:
        return default_storage.url(field.name)
    return DEFAULT_AVATAR_PATH if kind == "avatar" else DEFAULT_HEADER_PATH


def _absolute(src: str) -> str:
    return absolute(src) if src.startswith("/") else src


def account_avatar_url(account: Account) -> str:
    """Absolute avatar URL; Tribune's default image when none is set."""
    return _absolute(account_image_src(account, "avatar"))


def account_header_url(account: Account) -> str:
    """Absolute header URL; Tribune's default image when none is set."""
    return _absolute(account_image_src(account, "header"))


def by_handle(queryset, username: str, domain: str):
    """``queryset`` narrowed to the account ``username@domain``, compared without
    case as the unique index ``account_handle_unique`` (LOWER(username), domain)
    stores it, so the lookup is one index probe (``username__iexact`` compiles to
    UPPER(...) on PostgreSQL and scans every account). Usernames are ASCII, as
    Mastodon's are, so Python's and the database's lower-casing agree; domains are
    stored lower-cased."""
    return queryset.alias(username_key=Lower("username")).filter(
        username_key=username.lower(), domain=domain.lower())


# Joining: what the sign-up and sign-in forms need to know before a service runs.


def username_taken(username: str) -> bool:
    """Whether a local account already has this username (case-insensitively, as
    ``account_create`` compares), including one awaiting approval."""
    return by_handle(Account.objects.all(), username, "").exists()


def logins_with_email(email: str) -> QuerySet:
    """The logins (``auth.User``) whose address is ``email``, compared without
    case as the index ``auth_user_email_lower`` (LOWER(email); migration
    accounts 0013) stores it, both sides lower-cased by the database, so the lookup
    is one index probe: ``email__iexact`` compiles to LIKE on SQLite and UPPER()
    on PostgreSQL, and read every login on each sign-up."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.alias(email_key=Lower("email")).filter(
        email_key=Lower(Value(email)))


def email_taken(email: str, *, except_account: Account | None = None) -> bool:
    """Whether a login already has this email address (case-insensitively), other
    than ``except_account``'s own."""
    logins = logins_with_email(email)
    if except_account is not None:
        logins = logins.exclude(pk=except_account.user_id)
    return logins.exists()


def pending_account_with_credentials(*, username: str, password: str) -> Account | None:
    """The account awaiting approval that this username and password sign in to, or
    None. Lets the sign-in page say "pending review" rather than "wrong password",
    and only to someone who knows the password. Reads only (no hash upgrade)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import check_password

    user = (get_user_model().objects
            .filter(username=username, is_active=False, account__approval_request__isnull=False)
            .select_related("account").first())
    if user is None or not check_password(password, user.password):
        return None
    return user.account


class InviteState(enum.Enum):
    """Whether an invite code lets someone sign up now, and if not, why."""

    VALID = "valid"
    UNKNOWN = "unknown"  # no such code, or its creator is suspended
    EXPIRED = "expired"
    USED_UP = "used_up"


def invite_usable_q(now: datetime) -> Q:
    """The condition an invite row must meet to be used at ``now``."""
    return ((Q(expires_at__isnull=True) | Q(expires_at__gt=now))
            & (Q(max_uses__isnull=True) | Q(uses__lt=F("max_uses")))
            & (Q(created_by__isnull=True) | Q(created_by__suspended_at__isnull=True)))


def invite_state(*, code: str, now: datetime | None = None) -> InviteState:
    """What ``code`` (surrounding spaces ignored) is worth at ``now`` (default: now);
    one query."""
    now = now or timezone.now()
    invite = Invite.objects.filter(code=code.strip()).select_related("created_by").first()
    if invite is None or (invite.created_by is not None
                          and invite.created_by.suspended_at is not None):
        return InviteState.UNKNOWN
    if invite.expires_at is not None and invite.expires_at <= now:
        return InviteState.EXPIRED
    if invite.max_uses is not None and invite.uses >= invite.max_uses:
        return InviteState.USED_UP
    return InviteState.VALID


def invite_list(*, limit: int = 100) -> list[Invite]:
    """The newest invites first, with their creators (one query)."""
    return list(Invite.objects.select_related("created_by").order_by("-id")[:limit])


def can_act(account: Account) -> bool:
    """Whether ``account`` may post, boost, favourite or follow: not while a
    moderation decision freezes or suspends it."""
    return account.frozen_at is None and account.suspended_at is None


def account_language(account: Account | None) -> str:
    """The language to write to ``account`` in (notices, e-mails): its interface
    language, else its posting language when the interface offers it, else the
    instance's default."""
    offered = {code for code, _name in settings.LANGUAGES}
    for code in ((account.locale, account.default_language) if account else ()):
        if code and code.split("-")[0] in offered:
            return code.split("-")[0]
    return settings.LANGUAGE_CODE


# --- domain blocks (Mastodon's server-wide moderation) ----------------------------------


def _domain_candidates(domain: str) -> list[str]:
    """``domain`` and each parent domain: ``a.b.example`` -> ``a.b.example``,
    ``b.example``, ``example`` (Mastodon's DomainBlock.rule_for)."""
    domain = domain.strip().lower().partition(":")[0].rstrip(".")
    parts = domain.split(".")
    return [".".join(parts[i:]) for i in range(len(parts)) if parts[i]]


def domain_block_for(domain: str):
    """The ``DomainBlock`` that applies to ``domain`` (a host, maybe with a port):
    its own, else the nearest parent domain's; None when none applies. One query."""
    from tribune.accounts.models import DomainBlock

    candidates = _domain_candidates(domain)
    if not candidates:
        return None
    blocks = {b.domain: b for b in DomainBlock.objects.filter(domain__in=candidates)}
    for candidate in candidates:
        if candidate in blocks:
            return blocks[candidate]
    return None


def domain_suspended(domain: str) -> bool:
    """Whether ``domain`` (or a parent) is suspended: nothing is taken from it or
    sent to it."""
    block = domain_block_for(domain)
    return block is not None and block.severity == "suspend"


def domain_blocks_list():
    """Every domain block, by domain (a list of ``DomainBlock``)."""
    from tribune.accounts.models import DomainBlock

    return list(DomainBlock.objects.order_by("domain"))


def limited_domains_q():
    """A queryset of the domains whose accounts' posts stay out of public
    timelines: silenced and suspended ones (exact domains; for ``__in``)."""
    from tribune.accounts.models import DomainBlock

    return DomainBlock.objects.filter(severity__in=["silence", "suspend"]).values("domain")


def domain_block_get(*, block_id: int | str):
    """The ``DomainBlock`` with this id; NotFound if there is none."""
    from tribune.accounts.models import DomainBlock

    try:
        return DomainBlock.objects.get(pk=parse_id(block_id))
    except (DomainBlock.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound(_("Record not found")) from None
