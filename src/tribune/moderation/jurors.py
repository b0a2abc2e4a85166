"""Jurors: who may volunteer (moderation reference §8.7), the rules quiz they
pass before they are drawn, and opting out.

An eligible juror has a local, active account at least ``JUROR_MIN_ACCOUNT_AGE``
old, no active strike and no active suspension for misuse (DSA Art. 23). The quiz
asks, for a few statements, whether each is one of this server's published
rules; the questions depend only on the account and the rules, so the answers
can be checked when they are sent.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tribune.accounts.models import Account
from tribune.core.errors import Forbidden, ValidationFailed
from tribune.moderation.decisions import active_strike_weight
from tribune.moderation.log import log_append
from tribune.moderation.models import JurorProfile, MisuseSanction, Strike
from tribune.moderation.selectors import rule_list

JUROR_MIN_ACCOUNT_AGE = timedelta(days=30)
QUIZ_LENGTH = 3
# Statements that are nobody's rule here, mixed with the real rules in the quiz.
QUIZ_DECOYS = (
    gettext_lazy("Every post must contain at least one hashtag."),
    gettext_lazy("Only moderators may post links."),
    gettext_lazy("Members must post at least once a week."),
    gettext_lazy("Replies are limited to three per thread."),
    gettext_lazy("Display names may never be changed."),
    gettext_lazy("Posts may only be written between 8 a.m. and 8 p.m."),
)


def _active_suspensions(now: datetime):
    return MisuseSanction.objects.filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now),
                                         stage="suspension", starts_at__lte=now)


def _suspended_for_misuse(account_id: int, now: datetime) -> bool:
    return _active_suspensions(now).filter(account_id=account_id).exists()


def _sanctioned_q(now: datetime) -> Q:
    """Accounts (as ``Account`` rows) with an active strike or an active misuse
    suspension (a suspension without an end counts as active)."""
    strikes = Strike.objects.filter(account=OuterRef("pk"), overruled_at__isnull=True,
                                    expires_at__gt=now, weight__gt=0)
    sanctions = _active_suspensions(now).filter(account=OuterRef("pk"))
    return Q(Exists(strikes)) | Q(Exists(sanctions))


def juror_ineligibility(account: Account, *, now: datetime | None = None) -> list[str]:
    """Why ``account`` may not serve as a juror now (translated sentences); an
    empty list when it may (the rules quiz aside). The conditions are those of
    moderation reference §8.7: a local, active account at least
    ``JUROR_MIN_ACCOUNT_AGE`` old, with no active strike and no active suspension
    for misuse (DSA Art. 23)."""
    now = now or timezone.now()
    reasons = []
    user = account.user if account.is_local else None
    if user is None or not user.is_active or account.suspended_at or account.frozen_at:
        reasons.append(_("Only active accounts on this server can serve on juries."))
    if account.created_at > now - JUROR_MIN_ACCOUNT_AGE:
        reasons.append(_("Your account must be at least %(days)d days old.")
                       % {"days": JUROR_MIN_ACCOUNT_AGE.days})
    if active_strike_weight(account.pk, now=now) or _suspended_for_misuse(account.pk, now):
        reasons.append(_("Accounts with an active strike or sanction cannot serve on juries."))
    return reasons


def juror_pool(now: datetime) -> set[int]:
    """Ids of every account that may be drawn now: opted in, quiz passed, eligible."""
    return set(
        Account.objects.filter(
            Exists(JurorProfile.objects.filter(account=OuterRef("pk"), opted_out_at__isnull=True,
                                               quiz_passed_at__isnull=False)),
            domain="", user__is_active=True, suspended_at__isnull=True, frozen_at__isnull=True,
            created_at__lte=now - JUROR_MIN_ACCOUNT_AGE)
        .exclude(_sanctioned_q(now)).values_list("pk", flat=True))


def juror_profile(*, account: Account) -> JurorProfile | None:
    """The account's juror profile, or None if it never opted in."""
    return JurorProfile.objects.filter(account=account).first()


def juror_opt_in(*, account: Account) -> JurorProfile:
    """Volunteer as a juror (again, after opting out). The account is drawn only
    once it has also passed the rules quiz (:func:`juror_quiz_submit`).

    Raises Forbidden with the reasons when the account is not eligible
    (:func:`juror_ineligibility`).
    """
    reasons = juror_ineligibility(account)
    if reasons:
        raise Forbidden(" ".join(reasons))
    now = timezone.now()
    with transaction.atomic():
        profile, created = JurorProfile.objects.select_for_update().get_or_create(
            account=account, defaults={"opted_in_at": now})
        if profile.opted_out_at is not None or created:
            JurorProfile.objects.filter(pk=profile.pk).update(opted_in_at=now, opted_out_at=None)
            log_append(action="jury.juror_opted_in", target_type="account",
                       target_id=account.pk, actor_id=account.pk, actor_kind="human")
    profile.refresh_from_db()
    return profile


def juror_opt_out(*, account: Account) -> JurorProfile | None:
    """Stop being drawn for new panels; seats already held keep their vote.
    Returns the profile (None when the account never opted in)."""
    with transaction.atomic():
        profile = JurorProfile.objects.select_for_update().filter(
            account=account, opted_out_at__isnull=True).first()
        if profile is not None:
            JurorProfile.objects.filter(pk=profile.pk).update(opted_out_at=timezone.now())
            log_append(action="jury.juror_opted_out", target_type="account",
                       target_id=account.pk, actor_id=account.pk, actor_kind="human")
    return juror_profile(account=account)


@dataclass(frozen=True)
class QuizQuestion:
    """"Is ``text`` one of this server's rules?"; the right answer is ``is_rule``."""

    text: str
    is_rule: bool


def juror_quiz(*, account: Account) -> list[QuizQuestion]:
    """The account's rules quiz: ``QUIZ_LENGTH`` statements, some of them published
    rules and at least one not. The same for the same account and the same rules
    (seeded by both), so the answers can be checked later.

    Raises ValidationFailed when the server has published no rule yet.
    """
    rules = rule_list()
    if not rules:
        raise ValidationFailed(_("Validation failed: This server has not published its "
                                 "rules yet"))
    texts = {r.text.strip().casefold() for r in rules}
    decoys = [str(d) for d in QUIZ_DECOYS if str(d).strip().casefold() not in texts]
    rng = random.Random(f"{account.pk}:" + ",".join(f"{r.pk}.{r.version}" for r in rules))
    real = rng.sample(rules, min(len(rules), QUIZ_LENGTH - 1))
    questions = [QuizQuestion(r.text, True) for r in real]
    questions += [QuizQuestion(t, False) for t in rng.sample(decoys, QUIZ_LENGTH - len(real))]
    rng.shuffle(questions)
    return questions


def juror_quiz_submit(*, account: Account, answers: Sequence[bool]) -> bool:
    """Check the answers (one per question of :func:`juror_quiz`, in order);
    when all are right, record the pass. Returns whether it passed.

    Raises ValidationFailed unless the account has opted in, or when the number of
    answers is wrong.
    """
    profile = JurorProfile.objects.filter(account=account, opted_out_at__isnull=True).first()
    if profile is None:
        raise ValidationFailed(_("Validation failed: Volunteer as a juror first"))
    questions = juror_quiz(account=account)
    if len(answers) != len(questions):
        raise ValidationFailed(_("Validation failed: Answer every question"))
    if any(bool(a) != q.is_rule for a, q in zip(answers, questions, strict=True)):
        return False
    with transaction.atomic():
        JurorProfile.objects.filter(pk=profile.pk).update(quiz_passed_at=timezone.now())
        log_append(action="jury.juror_qualified", target_type="account", target_id=account.pk,
                   actor_id=account.pk, actor_kind="human")
    return True


