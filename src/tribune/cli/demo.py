"""Invented demo content in English and French, made only through the services.

Everything comes from fixed seeds, so every instance gets the same people, follows
and posts (only the timestamps follow the clock). Running it again finds the demo
accounts and changes nothing. All of it is written in one transaction: a failure
leaves no half-made demo behind, and the background work it causes (timelines,
notifications) is enqueued at commit, for the task workers to do.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from faker import Faker

from tribune.accounts.models import Account
from tribune.accounts.selectors import account_lookup
from tribune.accounts.services import account_create, account_update
from tribune.cli.demo_text import RULES, VOICES, Voice
from tribune.cli.errors import CliError
from tribune.core.errors import NotFound
from tribune.graph.services import follow_create
from tribune.moderation.selectors import rule_list
from tribune.moderation.services import rule_create
from tribune.statuses.models import Status
from tribune.statuses.polls import poll_spec, poll_vote
from tribune.statuses.services import favourite_create, reblog_create, status_create

SEED = 20250601
PASSWORD = "tribune-demo"
EMAIL_DOMAIN = "demo.tribune.invalid"
ACCOUNTS_PER_LANGUAGE = 12
POSTS = 120
REBLOGS = 45
FAVOURITES = 240
REPLY_SHARE = 0.3
MINUTES_BETWEEN_POSTS = 35


@dataclass(frozen=True)
class Persona:
    username: str
    display_name: str
    note: str
    language: str
    admin: bool = False


@dataclass(frozen=True)
class DemoResult:
    """What ``demo_content_create`` found or made; ``statuses`` counts new posts."""

    created: bool
    usernames: tuple[str, ...]
    admins: frozenset[str]
    password: str
    statuses: int


def _ascii_slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", folded.lower())


def personas() -> list[Persona]:
    """The demo's people: an administrator, then English and French speakers in turn."""
    fakers = {}
    for offset, voice in enumerate(VOICES):
        fakers[voice.language] = Faker(voice.locale)
        fakers[voice.language].seed_instance(SEED + offset)
    rng = random.Random(SEED)
    people = [Persona(
        username="admin", display_name="Tribune Admin", language="en", admin=True,
        note="I look after this demo server. Questions? Mention me! #tribune",
    )]
    taken = {"admin"}
    for _ in range(ACCOUNTS_PER_LANGUAGE):
        for voice in VOICES:
            fake = fakers[voice.language]
            first, last = fake.first_name(), fake.last_name()
            base = f"{_ascii_slug(first)}_{_ascii_slug(last)}"[:26].strip("_")
            username, n = base, 1
            while username in taken:
                n += 1
                username = f"{base}{n}"
            taken.add(username)
            note = rng.choice(voice.bios).format(
                job=fake.job(), city=fake.city(), interest=rng.choice(voice.interests),
                tag=rng.choice(voice.tags))
            people.append(Persona(username=username, display_name=f"{first} {last}"[:30],
                                  note=note, language=voice.language))
    return people


def _existing(people: list[Persona]) -> list[str]:
    """Usernames of ``people`` already present as demo accounts; CliError if one
    of the names belongs to someone else."""
    found = []
    for person in people:
        try:
            account = account_lookup(acct=person.username)
        except NotFound:
            continue
        email = account.user.email.lower() if account.user else ""
        if not email.endswith("@" + EMAIL_DOMAIN):
            raise CliError(f"cannot add demo content: the username {person.username!r} "
                           "belongs to an account that is not a demo account")
        found.append(person.username)
    return found


def demo_content_create() -> DemoResult:
    """Add the demo accounts, follows, posts and rules, unless they already exist.

    Raises CliError when only part of the demo is present (use a fresh data dir).
    """
    people = personas()
    usernames = tuple(p.username for p in people)
    admins = frozenset(p.username for p in people if p.admin)
    existing = _existing(people)
    if len(existing) == len(people):
        return DemoResult(created=False, usernames=usernames, admins=admins,
                          password=PASSWORD, statuses=0)
    if existing:
        raise CliError(f"the demo content is incomplete ({len(existing)} of {len(people)} "
                       "demo accounts exist); start from an empty TRIBUNE_DATA_DIR")
    with transaction.atomic():
        accounts = [_account(person) for person in people]
        rng = random.Random(SEED)
        _follows(rng, accounts)
        posts = _posts(rng, accounts, {p.username: p for p in people})
        _reactions(rng, accounts, posts)
        posts += _polls(rng, accounts, {p.username: p for p in people})
        if not rule_list():
            for text, hint in RULES:
                rule_create(text=text, hint=hint)
    return DemoResult(created=True, usernames=usernames, admins=admins,
                      password=PASSWORD, statuses=len(posts))


def _account(person: Persona) -> Account:
    account = account_create(
        username=person.username, email=f"{person.username}@{EMAIL_DOMAIN}",
        password=PASSWORD, admin=person.admin, display_name=person.display_name,
        note=person.note,
    )
    return account_update(account=account, default_language=person.language)


def _follows(rng: random.Random, accounts: list[Account]) -> None:
    for account in accounts:
        others = [a for a in accounts if a.pk != account.pk]
        for target in rng.sample(others, k=rng.randint(6, 12)):
            follow_create(account=account, target=target)


def _posts(rng: random.Random, accounts: list[Account],
           people: dict[str, Persona]) -> list[Status]:
    voices = {voice.language: voice for voice in VOICES}
    fakers = {}
    for offset, voice in enumerate(VOICES):
        fakers[voice.language] = Faker(voice.locale)
        fakers[voice.language].seed_instance(SEED + 100 + offset)
    start = timezone.now() - timedelta(minutes=MINUTES_BETWEEN_POSTS * (POSTS + 2))
    posts: list[Status] = []
    for i in range(POSTS):
        author = rng.choice(accounts)
        language = people[author.username].language
        voice, fake = voices[language], fakers[language]
        other = rng.choice([a for a in accounts if a.pk != author.pk])
        at = start + timedelta(minutes=MINUTES_BETWEEN_POSTS * i, seconds=rng.randint(0, 900))
        parent = rng.choice(posts) if i >= 8 and rng.random() < REPLY_SHARE else None
        if parent is not None:
            text = rng.choice(voice.replies)
            if parent.account_id != author.pk:
                text = f"@{parent.account.username} {text}"
        else:
            text = _fill(rng.choice(voice.posts), voice, fake, rng, other=other.username)
            if "@" not in text and rng.random() < 0.15:
                text += f" (cc @{other.username})"
        posts.append(status_create(
            account=author, text=text, visibility="public", language=language,
            in_reply_to_id=parent.pk if parent else None, created_at=at,
        ))
    return posts


# One open poll per language, asked an hour ago, running for three days.
POLLS = {
    "en": ("Where should the next neighbourhood picnic be?",
           ["By the river", "In the park", "On the old bridge"]),
    "fr": ("On se retrouve où pour le prochain pique-nique du quartier ?",
           ["Au bord de la rivière", "Au parc", "Sur le vieux pont"]),
}


def _polls(rng: random.Random, accounts: list[Account],
           people: dict[str, Persona]) -> list[Status]:
    made = []
    for language, (question, options) in POLLS.items():
        speakers = [a for a in accounts if people[a.username].language == language]
        if not speakers:
            continue
        author = rng.choice(speakers)
        status = status_create(
            account=author, text=question, visibility="public", language=language,
            created_at=timezone.now() - timedelta(hours=1),
            poll=poll_spec(options=options, expires_in=3 * 86400))
        for voter in rng.sample([a for a in accounts if a.pk != author.pk], k=8):
            poll_vote(account=voter, poll=status.poll, choices=[rng.randrange(len(options))])
        made.append(status)
    return made


def _fill(template: str, voice: Voice, fake: Faker, rng: random.Random, *, other: str) -> str:
    day = fake.day_of_week()  # capitalised in English, not in French
    return template.format(
        city=fake.city(), first=fake.first_name(), job=fake.job(), day=day,
        Day=day[:1].upper() + day[1:], other=other, n=rng.randint(3, 40),
        topic=rng.choice(voice.topics), dish=rng.choice(voice.dishes),
        thing=rng.choice(voice.things), fact=rng.choice(voice.facts),
    )


def _reactions(rng: random.Random, accounts: list[Account], posts: list[Status]) -> None:
    for count, react in ((REBLOGS, reblog_create), (FAVOURITES, favourite_create)):
        for _ in range(count):
            account, status = rng.choice(accounts), rng.choice(posts)
            if status.account_id != account.pk:
                react(account=account, status=status)
