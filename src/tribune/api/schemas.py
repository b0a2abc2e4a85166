"""Pydantic schemas of the Mastodon entities Tribune returns (and so documents in
its OpenAPI schema). Field names, types and nullability follow the Mastodon API
(docs: entities/*.md; the reference OpenAPI schema checks them in the tests).
Datetimes are pre-formatted strings (see presenters.iso)."""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import ConfigDict, model_serializer
from pydantic import Field as PydanticField


class Out(Schema):
    model_config = ConfigDict(extra="forbid")


class Error(Out):
    error: str
    error_description: str | None = None
    details: dict[str, Any] | None = None


class Token(Out):
    access_token: str
    token_type: str
    scope: str
    created_at: int


class Field(Out):
    name: str
    value: str
    verified_at: str | None = None


class Account(Out):
    id: str
    username: str
    acct: str
    display_name: str
    locked: bool
    bot: bool
    discoverable: bool | None
    indexable: bool
    group: bool
    created_at: str
    note: str
    url: str | None
    uri: str
    avatar: str
    avatar_static: str
    header: str
    header_static: str
    followers_count: int
    following_count: int
    statuses_count: int
    last_status_at: str | None
    hide_collections: bool | None
    noindex: bool | None
    emojis: list[dict[str, Any]]
    roles: list[dict[str, Any]] | None
    fields: list[Field]
    # Only on an account that moved, as in Mastodon (entities/Account.md#moved) and
    # as the timelines' cached entities have it; left out, not null, otherwise.
    moved: Account | None = PydanticField(default=None, exclude_if=lambda value: value is None)


class Source(Out):
    privacy: str
    sensitive: bool
    language: str | None
    note: str
    fields: list[Field]
    follow_requests_count: int
    indexable: bool
    discoverable: bool | None
    hide_collections: bool | None
    quote_policy: str | None = None


class Role(Out):
    id: str
    name: str
    permissions: str
    color: str
    highlighted: bool


class CredentialAccount(Account):
    source: Source
    role: Role


class Mention(Out):
    id: str
    username: str
    acct: str
    url: str


class StatusTag(Out):
    name: str
    url: str


class StatusApplication(Out):
    name: str
    website: str | None


class MediaAttachment(Out):
    id: str
    type: str
    url: str | None
    preview_url: str | None
    remote_url: str | None
    preview_remote_url: str | None
    text_url: str | None
    meta: dict[str, Any] | None
    description: str | None
    blurhash: str | None


class PollOption(Out):
    title: str
    votes_count: int | None


class Poll(Out):
    id: str
    expires_at: str | None
    expired: bool
    multiple: bool
    votes_count: int
    voters_count: int | None
    options: list[PollOption]
    emojis: list[dict[str, Any]]
    voted: bool | None = None
    own_votes: list[int] | None = None


class Status(Out):
    id: str
    uri: str
    url: str | None
    created_at: str
    edited_at: str | None
    account: Account
    content: str
    text: str | None
    visibility: str
    sensitive: bool
    spoiler_text: str
    language: str | None
    in_reply_to_id: str | None
    in_reply_to_account_id: str | None
    replies_count: int
    reblogs_count: int
    favourites_count: int
    media_attachments: list[MediaAttachment]
    mentions: list[Mention]
    tags: list[StatusTag]
    emojis: list[dict[str, Any]]
    application: StatusApplication | None
    reblog: Status | None
    poll: Poll | None
    card: dict[str, Any] | None
    favourited: bool | None
    reblogged: bool | None
    bookmarked: bool | None
    muted: bool | None
    pinned: bool | None
    filtered: list[dict[str, Any]] | None
    local_only: bool
    interaction_policy: dict[str, Any]
    # Mastodon 4.5: a Quote (or, inside a quoted status, a ShallowQuote).
    quote: dict[str, Any] | None = None
    quote_approval: dict[str, Any] | None = None
    quotes_count: int | None = None


class StatusEdit(Out):
    content: str
    spoiler_text: str
    sensitive: bool
    created_at: str
    account: Account
    poll: dict[str, Any] | None
    media_attachments: list[dict[str, Any]]
    emojis: list[dict[str, Any]]


class StatusSource(Out):
    id: str
    text: str
    spoiler_text: str


class Context(Out):
    ancestors: list[Status]
    descendants: list[Status]


class Relationship(Out):
    id: str
    following: bool
    showing_reblogs: bool
    notifying: bool
    languages: list[str] | None
    followed_by: bool
    blocking: bool
    blocked_by: bool
    muting: bool
    muting_notifications: bool
    requested: bool
    requested_by: bool
    domain_blocking: bool
    endorsed: bool
    note: str


class Appeal(Out):
    state: str
    text: str


class AccountWarning(Out):
    id: str
    action: str
    text: str
    status_ids: list[str] | None
    target_account: Account
    appeal: Appeal | None
    created_at: str


class Notification(Out):
    id: str
    type: str
    group_key: str
    created_at: str
    account: Account
    status: Status | None
    moderation_warning: AccountWarning | None = None


class Rule(Out):
    id: str
    text: str
    hint: str


class Application(Out):
    id: str
    name: str
    website: str | None
    scopes: list[str]
    redirect_uri: str
    redirect_uris: list[str]
    vapid_key: str


class CredentialApplication(Application):
    client_id: str
    client_secret: str
    client_secret_expires_at: int


class Marker(Out):
    last_read_id: str
    version: int
    updated_at: str


class Preferences(Schema):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


Empty = dict[str, Any]


class MutedAccount(Account):
    mute_expires_at: str | None


class Tag(Out):
    id: str
    name: str
    url: str
    history: list[dict[str, Any]]
    following: bool | None = None


class Search(Out):
    accounts: list[Account]
    statuses: list[Status]
    hashtags: list[Tag]


class SearchV1(Out):
    """The search result of Mastodon before 2.4.1 (hashtags as plain names)."""

    accounts: list[Account]
    statuses: list[Status]
    hashtags: list[str]


class Count(Out):
    count: int


class PreferencesOut(Out):
    """The Preferences entity; fields are addressed by their Mastodon names (aliases)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    posting_default_visibility: str = PydanticField(alias="posting:default:visibility")
    posting_default_sensitive: bool = PydanticField(alias="posting:default:sensitive")
    posting_default_language: str | None = PydanticField(alias="posting:default:language")
    posting_default_quote_policy: str = PydanticField(alias="posting:default:quote_policy")
    reading_expand_media: str = PydanticField(alias="reading:expand:media")
    reading_expand_spoilers: bool = PydanticField(alias="reading:expand:spoilers")


class Report(Out):
    id: str
    action_taken: bool
    action_taken_at: str | None
    category: str
    comment: str
    forwarded: bool
    created_at: str
    status_ids: list[str] | None
    rule_ids: list[str] | None
    target_account: Account


class List(Out):
    id: str
    title: str
    replies_policy: str
    exclusive: bool


class WebPushSubscription(Out):
    id: str
    endpoint: str
    standard: bool
    alerts: dict[str, bool]
    server_key: str


class Conversation(Out):
    id: str
    unread: bool
    accounts: list[Account]
    last_status: Status | None


class ScheduledPoll(Out):
    options: list[str]
    expires_in: int
    multiple: bool
    hide_totals: bool


class ScheduledStatusParams(Out):
    text: str
    poll: ScheduledPoll | None
    media_ids: list[str] | None
    sensitive: bool | None
    spoiler_text: str | None
    visibility: str
    in_reply_to_id: int | None
    language: str | None
    application_id: int
    scheduled_at: str | None
    idempotency: str | None
    with_rate_limit: bool
    quoted_status_id: str | None = None
    # Left out when unknown: Mastodon's schema allows no null here.
    quote_approval_policy: str | None = None

    @model_serializer(mode="wrap")
    def _without_unknown_policy(self, handler):
        data = handler(self)
        if data.get("quote_approval_policy") is None:
            data.pop("quote_approval_policy", None)
        return data


class ScheduledStatus(Out):
    id: str
    scheduled_at: str
    params: ScheduledStatusParams
    media_attachments: list[MediaAttachment]


class DomainBlock(Out):
    """Mastodon's DomainBlock (entities/DomainBlock.md)."""

    domain: str
    digest: str
    severity: str
    comment: str | None = None


class AdminDomainBlock(Out):
    """Mastodon's Admin::DomainBlock (entities/Admin_DomainBlock.md)."""

    id: str
    domain: str
    digest: str
    created_at: str
    severity: str
    reject_media: bool
    reject_reports: bool
    private_comment: str | None = None
    public_comment: str | None = None
    obfuscate: bool
