"""Trend scores: distinct accounts, the sliding window, decay, review and
eligibility (tribune.trends.scoring, selectors)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tribune.accounts.models import Account
from tribune.core.ids import new_id
from tribune.statuses.models import Status, Tag
from tribune.statuses.services import favourite_create, reblog_create, status_create
from tribune.trends.models import Review, StatusTrend, TagTrend
from tribune.trends.scoring import (
    BASELINE_DAYS,
    STATUS_HALFLIFE,
    TAG_HALFLIFE,
    TAG_THRESHOLD,
    trends_refresh,
)
from tribune.trends.selectors import tag_histories, trending_statuses, trending_tags
from tribune.trends.services import trend_status_review, trend_tag_review

pytestmark = pytest.mark.django_db


@pytest.fixture
def crowd(make_account):
    """Eight accounts."""
    return [make_account(f"crowd{n}") for n in range(8)]


def tag_score(name: str) -> float:
    trend = TagTrend.objects.filter(tag__name=name).first()
    return trend.score if trend else 0.0


def test_one_account_spamming_a_tag_a_thousand_times_counts_once(crowd, make_account):
    spammer = make_account("spammer")
    status_create(account=spammer, text="#spam first")
    tag = Tag.objects.get(name="spam")
    # 999 more posts with the tag, written as status_create writes them (fast).
    now = timezone.now()
    rows = Status.objects.bulk_create(
        [
            Status(
                id=new_id(),
                account=spammer,
                text="#spam",
                content="<p>#spam</p>",
                created_at=now,
            )
            for _ in range(999)
        ]
    )
    Status.tags.through.objects.bulk_create(
        [Status.tags.through(status_id=s.pk, tag_id=tag.pk) for s in rows]
    )
    trends_refresh()
    assert tag_score("spam") == 0  # 1,000 uses, one account: below the threshold
    assert TagTrend.objects.filter(tag=tag, accounts__gt=0).count() == 0

    for account in crowd[: TAG_THRESHOLD - 1]:
        status_create(account=account, text="#spam too")
    trends_refresh()
    trend = TagTrend.objects.get(tag=tag)
    # five distinct accounts, the spammer once among them; nothing before: expected 1
    assert trend.accounts == TAG_THRESHOLD
    assert trend.uses == 1000 + TAG_THRESHOLD - 1
    assert trend.score == pytest.approx((TAG_THRESHOLD - 1) ** 2)
    assert tag_histories([tag.pk])[tag.pk][0]["uses"] == str(1000 + TAG_THRESHOLD - 1)
    assert tag_histories([tag.pk])[tag.pk][0]["accounts"] == str(TAG_THRESHOLD)


def test_uses_outside_the_window_do_not_count(crowd):
    for account in crowd[:6]:
        status_create(account=account, text="#gardening today")
    trends_refresh()
    assert tag_score("gardening") == pytest.approx((6 - 1) ** 2)
    # A day and a bit later the posts are the baseline: 6 accounts over 6 days is
    # one a day expected, nobody now, and the peak has decayed for a day.
    trends_refresh(now=timezone.now() + timedelta(days=1, hours=1))
    trend = TagTrend.objects.get(tag__name="gardening")
    assert trend.accounts == 0
    assert trend.score == 0  # 25 * 0.5**12.5 is under the decay threshold


def test_a_tag_score_decays_by_half_each_halflife(crowd):
    for account in crowd[:7]:
        status_create(account=account, text="#eclipse tonight")
    start = timezone.now()
    trends_refresh(now=start)
    peak = tag_score("eclipse")
    assert peak == pytest.approx((7 - 1) ** 2)
    # The uses stop counting (a decision reduced their reach): the peak decays.
    Status.objects.filter(tags__name="eclipse").update(reach_reduced_at=timezone.now())
    trends_refresh(now=start + TAG_HALFLIFE)
    assert tag_score("eclipse") == pytest.approx(peak / 2)
    trends_refresh(now=start + 2 * TAG_HALFLIFE)
    assert tag_score("eclipse") == pytest.approx(peak / 4)
    # A tag still trending shows its current counts, below the threshold too.
    Status.objects.filter(tags__name="eclipse").update(reach_reduced_at=None)
    Status.objects.filter(tags__name="eclipse", account__in=crowd[:4]).update(
        reach_reduced_at=timezone.now()
    )
    trends_refresh(now=start + 2 * TAG_HALFLIFE)
    assert TagTrend.objects.get(tag__name="eclipse").accounts == 3
    assert tag_score("eclipse") == pytest.approx(peak / 4)


def old_post(account, tag: Tag, at) -> Status:
    """A post with the tag written at ``at`` (its id of that time, as an imported
    post's), shaped as status_create writes one."""
    status = Status.objects.create(
        id=new_id(at),
        account=account,
        text=f"#{tag.name}",
        content=f"<p>#{tag.name}</p>",
        created_at=at,
    )
    status.tags.add(tag)
    return status


def test_a_baseline_of_usual_use_lowers_the_score(crowd):
    for account in crowd[:7]:
        status_create(account=account, text="#coffee")
    tag = Tag.objects.get(name="coffee")
    for n, account in enumerate(crowd):  # all eight used it over the days before
        old_post(account, tag, timezone.now() - timedelta(days=2 + n % 4))
    trends_refresh()
    expected = len(crowd) / BASELINE_DAYS
    assert tag_score("coffee") == pytest.approx((7 - expected) ** 2 / expected)
    history = tag_histories([tag.pk])[tag.pk]
    assert [h["accounts"] for h in history] == ["7", "0", "2", "2", "2", "2", "0"]


def _interact(status, accounts, *, reblog_every: int = 2):
    for n, account in enumerate(accounts):
        if n % reblog_every:
            reblog_create(account=account, status=status)
        else:
            favourite_create(account=account, status=status)


def test_status_score_counts_distinct_accounts_and_decays(crowd, make_account):
    author = make_account("author")
    post = status_create(account=author, text="A long thread about tides")
    _interact(post, crowd[:6])
    for account in crowd[:3]:  # both a favourite and a boost: one account each
        if not Status.objects.filter(account=account, reblog_of=post).exists():
            reblog_create(account=account, status=post)
        favourite_create(account=account, status=post)
    favourite_create(account=author, status=post)  # the author's own: not counted
    now = timezone.now()
    trends_refresh(now=now)
    trend = StatusTrend.objects.get(status=post)
    assert trend.interactions == 6
    age = now - Status.objects.get(pk=post.pk).created_at
    assert trend.score == pytest.approx(25 * 0.5 ** (age / STATUS_HALFLIFE))
    trends_refresh(now=now + STATUS_HALFLIFE)
    trend.refresh_from_db()
    assert trend.score == pytest.approx(
        25 * 0.5 ** ((age + STATUS_HALFLIFE) / STATUS_HALFLIFE)
    )


def test_few_interactions_do_not_trend(crowd, make_account):
    post = status_create(account=make_account("author"), text="quiet")
    _interact(post, crowd[:4])
    trends_refresh()
    assert not StatusTrend.objects.filter(status=post, score__gt=0).exists()


def test_only_approved_items_trend_when_review_is_required(
    settings, crowd, make_account, moderator
):
    settings.TRIBUNE_TRENDS_REQUIRE_REVIEW = True
    author = make_account("author")
    post = status_create(account=author, text="#tides are high")
    for account in crowd[:5]:
        status_create(account=account, text="#tides indeed")
    _interact(post, crowd)
    trends_refresh()
    tag = Tag.objects.get(name="tides")
    assert trending_tags() == [] and trending_statuses() == []
    trend_tag_review(reviewer=moderator, tag_id=tag.pk, approve=True)
    trend_status_review(reviewer=moderator, status_id=post.pk, approve=True)
    assert trending_tags() == [tag]
    assert [s.pk for s in trending_statuses()] == [post.pk]
    trends_refresh()  # a refresh keeps the review
    assert TagTrend.objects.get(tag=tag).review == Review.APPROVED
    trend_tag_review(reviewer=moderator, tag_id=tag.pk, approve=False)
    assert trending_tags() == []


def test_without_review_pending_items_trend_but_rejected_never(
    settings, crowd, make_account, moderator
):
    settings.TRIBUNE_TRENDS_REQUIRE_REVIEW = False
    for account in crowd[:5]:
        status_create(account=account, text="#harvest")
    trends_refresh()
    tag = Tag.objects.get(name="harvest")
    assert trending_tags() == [tag]
    trend_tag_review(reviewer=moderator, tag_id=tag.pk, approve=False)
    trends_refresh()
    assert trending_tags() == []


def test_ineligible_posts_never_trend(settings, crowd, make_account, moderator):
    settings.TRIBUNE_TRENDS_REQUIRE_REVIEW = False
    frozen = make_account("frozen")
    hidden = make_account("hidden")
    Account.objects.filter(pk=hidden.pk).update(discoverable=False)
    fine = make_account("fine")
    posts = {
        "frozen": status_create(account=frozen, text="by a restricted account"),
        "hidden": status_create(account=hidden, text="by an undiscoverable account"),
        "unlisted": status_create(account=fine, text="unlisted", visibility="unlisted"),
        "reduced": status_create(account=fine, text="reach reduced"),
        "fine": status_create(account=fine, text="fine"),
    }
    for post in posts.values():
        _interact(post, crowd)
    # The restrictions a decision applies (moderation.decisions sets these fields).
    Account.objects.filter(pk=frozen.pk).update(frozen_at=timezone.now())
    Status.objects.filter(pk=posts["reduced"].pk).update(
        reach_reduced_at=timezone.now()
    )
    trends_refresh()
    assert [s.pk for s in trending_statuses()] == [posts["fine"].pk]
    # Approval does not make an ineligible post trend.
    trend_status_review(reviewer=moderator, status_id=posts["frozen"].pk, approve=True)
    assert [s.pk for s in trending_statuses()] == [posts["fine"].pk]
    # A restriction after the refresh takes effect at once.
    Account.objects.filter(pk=fine.pk).update(frozen_at=timezone.now())
    assert trending_statuses() == []


def test_a_restricted_accounts_posts_do_not_make_a_tag_trend(settings, crowd):
    settings.TRIBUNE_TRENDS_REQUIRE_REVIEW = False
    for account in crowd[:5]:
        status_create(account=account, text="#rumour")
    Account.objects.filter(pk=crowd[0].pk).update(frozen_at=timezone.now())
    trends_refresh()
    assert tag_score("rumour") == 0
    assert TagTrend.objects.filter(tag__name="rumour").count() == 0


def test_reviews_are_for_staff(alice):
    from tribune.core.errors import Forbidden

    status = status_create(account=alice, text="#mine")
    with pytest.raises(Forbidden):
        trend_tag_review(reviewer=alice, tag_id=status.tags.get().pk, approve=True)
    with pytest.raises(Forbidden):
        trend_status_review(reviewer=alice, status_id=status.pk, approve=True)


def test_the_refresh_command_and_the_refresh_after_activity(
    settings, crowd, capsys, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    from tribune.cli import main
    from tribune.trends.scoring import REFRESH_KEY

    settings.TRIBUNE_TRENDS_REQUIRE_REVIEW = False
    for account in crowd[:5]:
        status_create(account=account, text="#kites")
    assert main(["trends", "refresh"]) == 0
    assert "trending hashtags: 1, trending posts: 0" in capsys.readouterr().out
    assert [t.name for t in trending_tags()] == ["kites"]
    # After a refresh period, the next post enqueues a refresh (run at once here).
    TagTrend.objects.all().delete()
    cache.delete(REFRESH_KEY)
    with django_capture_on_commit_callbacks(execute=True):
        status_create(account=crowd[5], text="#kites too")
    assert [t.name for t in trending_tags()] == ["kites"]
    TagTrend.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        status_create(account=crowd[6], text="#kites again")  # within the period: none
    assert trending_tags() == []
