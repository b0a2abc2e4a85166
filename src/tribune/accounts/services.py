"""Writes to accounts: creation (login + public account), profile updates and the
stored avatar and header files."""

from __future__ import annotations

import logging
import re
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tribune.accounts.models import Account, QuotePolicy, Visibility
from tribune.accounts.selectors import email_taken
from tribune.core.entity_cache import new_version
from tribune.core.errors import Conflict, ValidationFailed
from tribune.core.languages import is_language_code
from tribune.core.text import render
from tribune.core.urls import absolute

logger = logging.getLogger(__name__)

USERNAME_RE = re.compile(r"^[a-z0-9_]+([a-z0-9_.\-]+[a-z0-9_]+)?$", re.IGNORECASE)
USERNAME_MAX = 30
NOTE_MAX = 500
DISPLAY_NAME_MAX = 30


def password_hash(password: str, *, check: bool = True) -> str:
    """``password`` hashed with the first of ``PASSWORD_HASHERS`` (Argon2id,
    ``accounts.hashers``), after the ``AUTH_PASSWORD_VALIDATORS`` unless ``check`` is
    False (ValidationFailed). Call it before opening a transaction: a hashing keeps
    a core busy for tens of milliseconds and holds one of the process's hashing
    slots (``core.errors.Overloaded`` when none is free), and on SQLite an open
    write transaction holds the database's write lock all that time."""
    if check:
        _check_password(password)
    return make_password(password)


def _check_password(password: str) -> None:
    try:
        validate_password(password)
    except DjangoValidationError as exc:
        raise ValidationFailed(_("Validation failed: %(reasons)s")
                               % {"reasons": " ".join(exc.messages)}) from None


def account_create(
    *, username: str, email: str, password: str = "", admin: bool = False,
    display_name: str = "", note: str = "", locked: bool = False, bot: bool = False,
    check_password: bool = True, active: bool = True, hashed_password: str | None = None,
    locale: str = "",
) -> Account:
    """Create a local login and its public account in one transaction.

    Usernames follow Mastodon's rule (letters, digits and underscores, at most 30;
    unique case-insensitively). ``active=False`` makes a login that cannot sign in
    yet (a sign-up awaiting approval). The password is hashed before the
    transaction opens (``password_hash``); a caller that wraps this in a
    transaction of its own hashes first and passes ``hashed_password`` instead of
    ``password``. ``locale`` is the interface language (one of
    ``settings.LANGUAGES``, or "" for the browser's). Raises ValidationFailed for
    bad input, Conflict when the username or email is taken, and Overloaded when
    no password-hashing slot is free.
    """
    if not username or len(username) > USERNAME_MAX or not USERNAME_RE.match(username):
        raise ValidationFailed(_(
            "Validation failed: Username must contain only letters, numbers and "
            "underscores, at most 30 characters"
        ))
    try:
        validate_email(email)
    except DjangoValidationError:
        raise ValidationFailed(_("Validation failed: Email is invalid")) from None
    if hashed_password is None and check_password:
        _check_password(password)
    User = get_user_model()
    # A taken username is found by the unique index on LOWER(username), domain
    # (``account_handle_unique``) when the account is inserted, below: a lookup
    # first would cost every sign-up a query and still race a concurrent one.
    if email_taken(email):
        raise Conflict(_("Email %(email)s is already taken") % {"email": email})
    if hashed_password is None:
        hashed_password = password_hash(password, check=False)  # checked above
    now = timezone.now()
    try:
        # No savepoint inside a caller's transaction (a sign-up's): a refused
        # insert raises Conflict, which undoes the caller's transaction too.
        with transaction.atomic(savepoint=False):
            user = User(username=username, email=User.objects.normalize_email(email),
                        password=hashed_password, is_staff=admin, is_superuser=admin,
                        is_active=active)
            user.save()
            account = Account.objects.create(
                user=user, username=username, domain="", created_at=now, active_at=now,
                display_name=display_name[:DISPLAY_NAME_MAX], locked=locked, bot=bot,
                locale=locale,
            )
            if note:
                _set_note(account, note)
                account.save(update_fields=["note", "note_html"])
    except IntegrityError:
        raise Conflict(_("Username %(username)s is already taken") % {"username": username}) from None
    return account


def _set_note(account: Account, note: str) -> None:
    from tribune.accounts.selectors import account_url_for_handle

    account.note = note
    account.note_html = render(
        note, mention_url=account_url_for_handle,
        tag_url=lambda name: absolute(f"/tags/{name}"),
    )


def account_update(
    *, account: Account, display_name: str | None = None, note: str | None = None,
    locked: bool | None = None, bot: bool | None = None,
    discoverable: bool | None = None, indexable: bool | None = None,
    default_visibility: str | None = None, default_sensitive: bool | None = None,
    default_language: str | None = None, locale: str | None = None,
    default_quote_policy: str | None = None,
) -> Account:
    """Change profile fields and posting preferences; None leaves a field as it is.

    Limits are Mastodon's: display name 30 characters, note 500. ``locale`` is the
    interface language, one of ``settings.LANGUAGES`` or "" for the browser's choice.
    ``default_quote_policy`` is the quote policy of new posts (``QuotePolicy``).
    Raises ValidationFailed.
    """
    changed: list[str] = []
    if display_name is not None:
        if len(display_name) > DISPLAY_NAME_MAX:
            raise ValidationFailed(_("Validation failed: Display name is too long (maximum is 30 characters)"))
        account.display_name = display_name
        changed.append("display_name")
    if note is not None:
        if len(note) > NOTE_MAX:
            raise ValidationFailed(_("Validation failed: Note is too long (maximum is 500 characters)"))
        _set_note(account, note)
        changed += ["note", "note_html"]
    if default_visibility is not None:
        # Mastodon's posting default may not be direct (UserSettings privacy).
        if default_visibility not in (Visibility.PUBLIC, Visibility.UNLISTED, Visibility.PRIVATE):
            raise ValidationFailed(_("Validation failed: Privacy is not included in the list"))
        account.default_visibility = default_visibility
        changed.append("default_visibility")
    if default_language is not None:
        if default_language and not is_language_code(default_language):
            raise ValidationFailed(_("Validation failed: Language is not a valid language code"))
        account.default_language = default_language
        changed.append("default_language")
    if default_quote_policy is not None:
        if default_quote_policy not in QuotePolicy.values:
            raise ValidationFailed(
                _("Validation failed: Quote policy is not included in the list"))
        account.default_quote_policy = default_quote_policy
        changed.append("default_quote_policy")
    if locale is not None:
        if locale and locale not in dict(settings.LANGUAGES):
            raise ValidationFailed(_("Validation failed: Locale is not included in the list"))
        account.locale = locale
        changed.append("locale")
    for field, value in (("locked", locked), ("bot", bot), ("discoverable", discoverable),
                         ("indexable", indexable), ("default_sensitive", default_sensitive)):
        if value is not None:
            setattr(account, field, value)
            changed.append(field)
    if changed:
        # Only what changed: a stale copy must not put back a replaced (and
        # deleted) avatar or header, nor undo a concurrent change of another field.
        account.save(update_fields=changed)
        _profile_updated(account, changed)
    return account


# What other servers see of an account (its actor document): a change of any of
# these is told to them (``ProfileUpdated``, Mastodon's Update of the actor).
PROFILE_FIELDS = frozenset({"display_name", "note", "note_html", "locked", "bot",
                            "discoverable", "indexable", "avatar", "header",
                            "also_known_as", "moved_to_uri"})


def _profile_updated(account: Account, changed) -> None:
    """Publish ``ProfileUpdated`` when ``changed`` (field names) touches what the
    local ``account``'s actor document shows."""
    from tribune.core.events import ProfileUpdated, publish

    if account.is_local and PROFILE_FIELDS.intersection(changed):
        publish(ProfileUpdated(account_id=account.pk))


MAX_ALIASES = 10


def _check_account_uri(uri: str) -> str:
    from urllib.parse import urlsplit

    uri = uri.strip()
    parts = urlsplit(uri)
    if (len(uri) > 500 or parts.scheme not in ("http", "https") or not parts.netloc
            or any(c.isspace() for c in uri)):
        raise ValidationFailed(_("Validation failed: %(uri)s is not an account address "
                                 "such as https://social.example/users/name") % {"uri": uri})
    return uri


def account_aliases_set(*, account: Account, aliases: list[str]) -> Account:
    """Make ``aliases`` the ActivityPub ids of ``account``'s other accounts
    (``alsoKnownAs``): the accounts that may move here (Mastodon asks the new
    account to name the old one first, docs: user/moving.md). At most
    ``MAX_ALIASES``, duplicates dropped, never the account itself. Raises
    ValidationFailed."""
    from tribune.accounts.selectors import account_uri

    cleaned: list[str] = []
    for alias in aliases:
        uri = _check_account_uri(alias)
        if uri == account_uri(account):
            raise ValidationFailed(_("Validation failed: An account cannot be its own alias"))
        if uri not in cleaned:
            cleaned.append(uri)
    if len(cleaned) > MAX_ALIASES:
        raise ValidationFailed(_("Validation failed: At most %(limit)d aliases")
                               % {"limit": MAX_ALIASES})
    account.also_known_as = cleaned
    with transaction.atomic():
        account.save(update_fields=["also_known_as"])
        _profile_updated(account, ["also_known_as"])
    return account


def account_moved_to_set(*, account: Account, uri: str) -> Account:
    """Mark ``account`` as moved to the account whose ActivityPub id is ``uri``
    ("" undoes it): its profile then shows where it went, and the API's Account
    has ``moved``. An account of this instance must name ``account`` among its
    aliases first, as Mastodon checks (MoveService); an account elsewhere is
    checked by ``federation.moves.account_move``, which calls this after
    fetching it. A new move publishes ``AccountMoved`` (its followers follow the
    new account). Raises ValidationFailed."""
    from tribune.accounts.selectors import account_by_uri, account_uri

    if uri.strip():
        uri = _check_account_uri(uri)
        own = account_uri(account)
        if uri == own:
            raise ValidationFailed(_("Validation failed: An account cannot move to itself"))
        local_prefix = absolute("/users/")
        if uri.startswith(local_prefix):
            target = account_by_uri(uri)
            if target is None:
                raise ValidationFailed(_("Validation failed: There is no account %(uri)s "
                                         "on this server") % {"uri": uri})
            if own not in target.also_known_as:
                raise ValidationFailed(_(
                    "Validation failed: The new account must first name this one among "
                    "its aliases"))
    uri = uri.strip()
    changed = account.moved_to_uri != uri
    account.moved_to_uri = uri
    account.save(update_fields=["moved_to_uri"])
    if changed and uri:
        from tribune.core.events import AccountMoved, publish

        publish(AccountMoved(account_id=account.pk, target_uri=uri))
    return account


IMAGE_KINDS = ("avatar", "header")


def _check_kind(kind: str) -> None:
    if kind not in IMAGE_KINDS:
        raise ValueError(f"unknown account image {kind!r}")


def _delete_stored(name: str) -> None:
    try:
        default_storage.delete(name)
    except Exception:  # a storage outage must not undo the change: log it
        logger.exception("accounts: could not delete %s from storage", name)


def _image_replace(account: Account, kind: str, name: str) -> None:
    """Point ``account``'s ``kind`` at the stored file ``name`` ("" for none) and
    delete the file it replaces once that commits."""
    with transaction.atomic():
        # Locked and read again: of two concurrent changes, each deletes the file
        # the other one replaced, and none is left behind.
        old = (Account.objects.select_for_update().filter(pk=account.pk)
               .values_list(kind, flat=True).first()) or ""
        Account.objects.filter(pk=account.pk).update(**{kind: name}, version=new_version())
        if old and old != name:
            transaction.on_commit(lambda: _delete_stored(old))
        if old != name:
            _profile_updated(account, [kind])
    getattr(account, kind).name = name


def account_image_store(*, account: Account, kind: str, content: File,
                        extension: str) -> Account:
    """Make ``content`` ``account``'s avatar or header (``kind``) and delete the
    previous file from storage after commit.

    ``content`` is an image that ``media.account_images`` has already checked,
    cleaned and cropped: this only stores it, through Django's default storage
    under ``accounts/avatars/`` or ``accounts/headers/`` with an unguessable name
    ending in ``extension`` (".jpg", ".png", ".webp"). Go through
    ``media.account_images.account_profile_update`` for an upload.
    """
    _check_kind(kind)
    field = getattr(account, kind)
    stored = field.field.generate_filename(account, f"{secrets.token_hex(16)}{extension}")
    stored = default_storage.save(stored, content)
    try:
        _image_replace(account, kind, stored)
    except BaseException:
        _delete_stored(stored)
        raise
    return account


def account_image_remove(*, account: Account, kind: str) -> Account:
    """Go back to the default avatar or header (``kind``), deleting the file from
    storage after commit (Mastodon 4.2's ``DELETE /api/v1/profile/avatar`` and
    ``/header``); nothing happens when there is none."""
    _check_kind(kind)
    _image_replace(account, kind, "")
    return account


def account_remote_image_urls_set(*, account: Account, avatar_url: str,
                                  header_url: str) -> list[str]:
    """Record the pictures the remote ``account``'s server names (its actor's
    ``icon`` and ``image``) and return the kinds ("avatar", "header") whose URL
    changed to a new one, which the caller has fetched and stored
    (``media.remote``). A URL that is not http(s) or is longer than 500
    characters counts as none; a picture whose URL went away goes back to the
    default at once. Unchanged URLs are not fetched again (Mastodon's
    ``avatar_remote_url``). Raises ValidationFailed for a local account."""
    if account.is_local:
        raise ValidationFailed(_("Validation failed: not a remote account"))
    wanted = {kind: (url if url.startswith(("https://", "http://")) and len(url) <= 500
                     else "")
              for kind, url in (("avatar", avatar_url), ("header", header_url))}
    with transaction.atomic():
        current = (Account.objects.select_for_update().filter(pk=account.pk)
                   .values("avatar_remote_url", "header_remote_url").first()) or {}
        changed = [kind for kind, url in wanted.items()
                   if current.get(f"{kind}_remote_url", "") != url]
        if not changed:
            return []
        Account.objects.filter(pk=account.pk).update(
            **{f"{kind}_remote_url": wanted[kind] for kind in changed}, version=new_version())
        for kind in changed:
            setattr(account, f"{kind}_remote_url", wanted[kind])
            if not wanted[kind]:
                account_image_remove(account=account, kind=kind)
    return [kind for kind in changed if wanted[kind]]


def account_remote_image_store(*, account: Account, kind: str, url: str, content: File | None,
                               extension: str = "") -> bool:
    """Store ``content`` (already checked, cleaned and cropped by
    ``media.account_images``) as the remote ``account``'s ``kind`` picture when
    ``url`` is still the one its server names; ``content`` None (the picture
    could not be had) goes back to the default picture. Returns whether anything
    was written: False when the URL changed meanwhile (the newer fetch wins)."""
    _check_kind(kind)
    with transaction.atomic():
        still = Account.objects.select_for_update().filter(
            pk=account.pk, **{f"{kind}_remote_url": url}).exists()
        if not still or account.is_local:
            return False
        if content is None:
            account_image_remove(account=account, kind=kind)
        else:
            account_image_store(account=account, kind=kind, content=content,
                                extension=extension)
    return True


def account_email_set(*, account: Account, email: str) -> Account:
    """Change the login's email address. The caller has re-authenticated the person
    (the web asks for the current password). Raises ValidationFailed for a malformed
    address and Conflict when another login has it (compared case-insensitively)."""
    try:
        validate_email(email)
    except DjangoValidationError:
        raise ValidationFailed(_("Validation failed: Email is invalid")) from None
    if email_taken(email, except_account=account):
        raise Conflict(_("Email %(email)s is already taken") % {"email": email})
    get_user_model().objects.filter(pk=account.user_id).update(email=email)
    account.user.email = email
    return account


def account_password_set(*, account: Account, password: str) -> Account:
    """Give the login a new password, checked by ``AUTH_PASSWORD_VALIDATORS``. The
    caller has re-authenticated the person. Raises ValidationFailed."""
    user = account.user
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise ValidationFailed(_("Validation failed: %(reasons)s")
                                   % {"reasons": " ".join(exc.messages)}) from None
    user.set_password(password)
    user.save(update_fields=["password"])
    return account


REMOTE_DISPLAY_NAME_MAX = 100  # the column's length; remote servers set their own limits
# A remote bio's HTML is kept to this many characters: every Account entity of the
# account carries it.
REMOTE_NOTE_HTML_MAX = 10_000


@transaction.atomic
def account_remote_counts_set(*, account: Account, statuses: int | None = None,
                              followers: int | None = None,
                              following: int | None = None) -> Account:
    """Make a remote account's post, follower and following counts what its
    server says (the sizes of its collections; None keeps a count). Counts are
    capped at 2,147,483,647 (the column's limit); a local account is refused
    with ValidationFailed, its counts being the rows here."""
    if account.is_local:
        raise ValidationFailed(_("Validation failed: A local account's counts are its own"))
    cap = 2_147_483_647
    values = {field: min(value, cap) for field, value in (
        ("statuses_count", statuses), ("followers_count", followers),
        ("following_count", following)) if value is not None}
    if values:  # a new version: cached entities of the account are stale
        Account.objects.filter(pk=account.pk).update(**values, version=new_version())
        for field, value in values.items():
            setattr(account, field, value)
    return account


def account_remote_upsert(*, uri: str, username: str, domain: str, display_name: str = "",
                          note_html: str = "", url: str = "", locked: bool = False,
                          bot: bool = False, also_known_as: list[str] | None = None,
                          moved_to_uri: str | None = None) -> Account:
    """Store what another server says of one of its accounts: create the account
    whose ActivityPub id is ``uri`` on ``domain``, or update it.

    ``note_html`` is cut to ``REMOTE_NOTE_HTML_MAX`` characters and sanitised with the
    allowlist of post HTML (which closes what the cut left open); the display name
    is kept as plain text, cut to 100 characters. The username follows Mastodon's rule
    for remote ones (letters, digits, ``_``, and ``.`` or ``-`` inside), at most
    30 characters. ``also_known_as`` (at most ``MAX_ALIASES`` http(s) ids) and
    ``moved_to_uri`` are kept when given, None leaves them as they are. Raises
    ValidationFailed for a bad username, domain or URI, and Conflict when another
    account of ``domain`` already has the username.
    """
    from tribune.core.text import sanitize

    domain = domain.strip().lower()
    if (not username or len(username) > USERNAME_MAX or not USERNAME_RE.match(username)
            or not domain or domain == settings.TRIBUNE_DOMAIN.lower()
            or not uri.startswith(("https://", "http://")) or len(uri) > 500):
        raise ValidationFailed(_("Validation failed: not a remote account"))
    fields = {"username": username, "display_name": display_name[:REMOTE_DISPLAY_NAME_MAX],
              "note": "", "note_html": sanitize(note_html[:REMOTE_NOTE_HTML_MAX]), "url": url[:500] if
              url.startswith(("https://", "http://")) else "", "locked": locked, "bot": bot}
    if also_known_as is not None:
        fields["also_known_as"] = [u for u in also_known_as
                                   if u.startswith(("https://", "http://")) and len(u) <= 500
                                   ][:MAX_ALIASES]
    if moved_to_uri is not None:
        fields["moved_to_uri"] = (moved_to_uri if moved_to_uri.startswith(("https://", "http://"))
                                  and len(moved_to_uri) <= 500 else "")
    account = Account.objects.select_for_update().filter(uri=uri, domain=domain).first()
    try:
        with transaction.atomic():
            if account is None:
                return Account.objects.create(uri=uri, domain=domain,
                                              created_at=timezone.now(), **fields)
            changed = [name for name, value in fields.items()
                       if getattr(account, name) != value]
            if changed:
                for name in changed:
                    setattr(account, name, fields[name])
                account.save(update_fields=changed)
            return account
    except IntegrityError:
        raise Conflict(_("Username %(username)s is already taken")
                       % {"username": f"{username}@{domain}"}) from None


# --- domain blocks (Mastodon's server-wide moderation) ----------------------------------

DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*"
                       r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(:\d{1,5})?$")
DOMAIN_COMMENT_MAX = 1000


def domain_block_upsert(*, domain: str, severity: str = "silence", public_comment: str = "",
                        private_comment: str = "", reject_media: bool = False,
                        reject_reports: bool = False, new: bool = False):
    """Set the policy for ``domain`` (Mastodon's ``POST /api/v1/admin/domain_blocks``,
    and changing one) and return the ``DomainBlock``. ``severity`` is ``silence``,
    ``suspend`` or ``noop``; comments at most 1,000 characters each.

    Publishes ``DomainBlocked``: a suspension severs the follows between local
    accounts and the domain's (``effects``). Raises ValidationFailed for a bad
    domain (not a host name, or this instance's own) or severity, and when
    ``new`` and the domain has a block already (Mastodon's admin API answers 422).
    """
    from tribune.accounts.models import DomainBlock, DomainSeverity
    from tribune.core.events import DomainBlocked, publish

    domain = domain.strip().lower().rstrip(".")
    if not DOMAIN_RE.match(domain) or domain == settings.TRIBUNE_DOMAIN.lower():
        raise ValidationFailed(_("Validation failed: Domain is not a valid domain name"))
    if severity not in DomainSeverity.values:
        raise ValidationFailed(_("Validation failed: Severity is not included in the list"))
    if len(public_comment) > DOMAIN_COMMENT_MAX or len(private_comment) > DOMAIN_COMMENT_MAX:
        raise ValidationFailed(_("Validation failed: Comment is too long (maximum is "
                                 "%(max)d characters)") % {"max": DOMAIN_COMMENT_MAX})
    now = timezone.now()
    with transaction.atomic():
        if new and DomainBlock.objects.filter(domain=domain).exists():
            raise ValidationFailed(_("Validation failed: Domain has already been taken"))
        block, _created = DomainBlock.objects.update_or_create(domain=domain, defaults={
            "severity": severity, "public_comment": public_comment,
            "private_comment": private_comment, "reject_media": reject_media,
            "reject_reports": reject_reports, "updated_at": now},
            create_defaults={"severity": severity, "public_comment": public_comment,
                             "private_comment": private_comment,
                             "reject_media": reject_media, "reject_reports": reject_reports,
                             "created_at": now, "updated_at": now})
        # Public timelines show the domain's posts or not from now on: their
        # entities are unchanged, so no row version moves.
        publish(DomainBlocked(domain=domain, severity=severity))
    return block


def domain_block_delete(*, domain: str) -> None:
    """Lift the policy for ``domain`` (Mastodon's ``DELETE
    /api/v1/admin/domain_blocks/:id``). Follows severed by a suspension stay
    severed. Raises NotFound when ``domain`` has no block."""
    from tribune.accounts.models import DomainBlock
    from tribune.core.errors import NotFound

    deleted, _by_model = DomainBlock.objects.filter(
        domain=domain.strip().lower().rstrip(".")).delete()
    if not deleted:
        raise NotFound(_("Record not found"))
