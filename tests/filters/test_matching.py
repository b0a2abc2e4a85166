"""Filters through their services and the matching: Mastodon's rules for
titles, contexts, actions and nested keywords; whole-word and substring
keywords; expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tribune.core.errors import NotFound, ValidationFailed
from tribune.filters import selectors, services
from tribune.filters.matching import hides, keyword_pattern, searchable_text
from tribune.filters.models import Filter, FilterKeyword

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "keyword, whole_word, text, expected",
    [
        ("cat", True, "A cat sat", True),
        ("cat", True, "Concatenate", False),
        ("cat", False, "Concatenate", True),
        ("CAT", True, "my cat!", True),
        ("cat", True, "CATS", False),
        ("café", True, "Un CAFÉ noir", True),
        ("café", True, "un cafe noir", False),  # accents count, as in Mastodon
        ("cafe\u0301", True, "un café noir", True),  # composed or decomposed alike
        ("#tag", True, "about #tag today", True),  # no \b before a non-word start
        ("#tag", True, "about #tagging", False),
        ("c++", True, "I write c++ daily", True),  # nor after a non-word end
        ("a.b", False, "axb", False),  # the keyword is escaped
    ],
)
def test_keyword_patterns(keyword, whole_word, text, expected):
    assert (
        bool(keyword_pattern(keyword, whole_word=whole_word).search(text)) is expected
    )


def test_searchable_text_covers_warning_content_poll_and_media():
    text = searchable_text(
        spoiler_text="CW here",
        content_html="<p>a &amp; b</p><p>c<br>d</p>",
        poll_options=["yes", "no"],
        media_descriptions=["a heron", None],
    )
    assert text == "CW here\n\na & b\n\nc\nd\n\nyes\n\nno\n\na heron"


def test_create_update_and_nested_keywords(alice):
    found = services.filter_create(
        account=alice,
        title=" Spoilers ",
        context=["public", "home"],
        filter_action="hide",
        expires_in=3600,
        keywords_attributes=[
            {"keyword": "finale", "whole_word": False},
            {"keyword": "ending"},
            {"keyword": "skip", "_destroy": True},
        ],
    )
    assert (found.title, found.context, found.filter_action) == (
        "Spoilers",
        ["home", "public"],
        "hide",
    )
    assert (
        timedelta(minutes=59) < found.expires_at - timezone.now() <= timedelta(hours=1)
    )
    rows = {k.keyword: k.whole_word for k in FilterKeyword.objects.filter(filter=found)}
    assert rows == {"finale": False, "ending": True}
    finale = FilterKeyword.objects.get(filter=found, keyword="finale")
    ending = FilterKeyword.objects.get(filter=found, keyword="ending")
    services.filter_update(
        account=alice,
        filter_id=found.pk,
        title="Shows",
        expires_in=None,
        keywords_attributes=[
            {"id": str(finale.pk), "keyword": "season finale"},
            {"id": ending.pk, "_destroy": True},
            {"keyword": "twist"},
        ],
    )
    found.refresh_from_db()
    assert (found.title, found.expires_at, found.context) == (
        "Shows",
        None,
        ["home", "public"],
    )
    assert sorted(
        FilterKeyword.objects.filter(filter=found).values_list("keyword", flat=True)
    ) == ["season finale", "twist"]


def test_validation_and_ownership(alice, bob):
    for kwargs, message in [
        ({"title": "", "context": ["home"]}, "Title can't be blank"),
        ({"title": "x", "context": []}, "Context can't be blank"),
        (
            {"title": "x", "context": ["home", "elsewhere"]},
            "Context contains invalid values",
        ),
        (
            {"title": "x", "context": ["home"], "filter_action": "delete"},
            "Filter action",
        ),
        ({"title": "x", "context": ["home"], "expires_in": "soon"}, "Expires in"),
        (
            {
                "title": "x",
                "context": ["home"],
                "keywords_attributes": [{"keyword": " "}],
            },
            "Keyword can't be blank",
        ),
    ]:
        with pytest.raises(ValidationFailed, match=message):
            services.filter_create(account=alice, **kwargs)
    assert not Filter.objects.exists()  # nothing half-made
    with pytest.raises(NotFound):
        services.filter_create(
            account=alice,
            title="x",
            context=["home"],
            keywords_attributes=[{"id": "1", "keyword": "a"}],
        )
    mine = services.filter_create(
        account=alice,
        title="x",
        context=["home"],
        keywords_attributes=[{"keyword": "a"}],
    )
    keyword = mine.keywords.get()
    for call in (
        lambda: services.filter_update(account=bob, filter_id=mine.pk, title="y"),
        lambda: services.filter_delete(account=bob, filter_id=mine.pk),
        lambda: services.filter_keyword_delete(account=bob, keyword_id=keyword.pk),
        lambda: selectors.filter_get(account=bob, filter_id=mine.pk),
        lambda: selectors.filter_get(account=alice, filter_id="12abc"),
    ):
        with pytest.raises(NotFound):
            call()
    bobs = services.filter_create(
        account=bob, title="b", context=["home"], keywords_attributes=[{"keyword": "b"}]
    )
    with pytest.raises(NotFound):  # another filter's keyword cannot be reached by id
        services.filter_update(
            account=alice,
            filter_id=mine.pk,
            keywords_attributes=[{"id": bobs.keywords.get().pk, "_destroy": True}],
        )
    assert FilterKeyword.objects.filter(filter=bobs).count() == 1


def test_viewer_filters_by_context_action_and_expiry(alice, bob):
    services.filter_create(
        account=alice,
        title="Soft",
        context=["home", "thread"],
        keywords_attributes=[{"keyword": "rain"}],
    )
    services.filter_create(
        account=alice,
        title="Hard",
        context=["public"],
        filter_action="hide",
        keywords_attributes=[{"keyword": "hail"}],
    )
    old = services.filter_create(
        account=alice,
        title="Old",
        context=["home"],
        keywords_attributes=[{"keyword": "snow"}],
        expires_in=60,
    )
    Filter.objects.filter(pk=old.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    compiled = selectors.viewer_filters(alice)
    assert [f.title for f in compiled.filters] == ["Soft", "Hard"]

    def titles(text, context):
        return [
            m.filter.title
            for m in compiled.match(text=text, status_ids=[], context=context)
        ]

    assert titles("Rain and hail and snow", "home") == ["Soft"]
    assert titles("Rain and hail and snow", "public") == ["Hard"]
    assert titles("Rain and hail and snow", None) == ["Soft", "Hard"]
    assert titles("Rainbow", "home") == []
    assert hides(compiled.match(text="hail", status_ids=[], context="public"))
    assert not hides(compiled.match(text="rain", status_ids=[], context="home"))
    assert not selectors.viewer_filters(bob)
    assert not selectors.viewer_filters(None)


def test_status_filters(alice, bob):
    from tribune.statuses.services import status_create

    post = status_create(account=bob, text="nothing special")
    hidden = status_create(account=bob, text="secret", visibility="private")
    found = services.filter_create(account=alice, title="That one", context=["home"])
    row = services.filter_status_create(
        account=alice, filter_id=found.pk, status_id=str(post.pk)
    )
    with pytest.raises(ValidationFailed, match="already been taken"):
        services.filter_status_create(
            account=alice, filter_id=found.pk, status_id=post.pk
        )
    with pytest.raises(NotFound):  # a post alice cannot see
        services.filter_status_create(
            account=alice, filter_id=found.pk, status_id=hidden.pk
        )
    matches = selectors.viewer_filters(alice).match(
        text="", status_ids=[post.pk + 1, post.pk], context="home"
    )
    assert [(m.filter.id, m.status_matches) for m in matches] == [
        (found.pk, (post.pk,))
    ]
    services.filter_status_delete(account=alice, filter_status_id=row.pk)
    assert not selectors.viewer_filters(alice).match(
        text="", status_ids=[post.pk], context="home"
    )


def test_muted_word_is_a_hide_filter_everywhere(alice):
    found = services.muted_word_create(account=alice, word="  spoilers ")
    assert (found.title, found.filter_action) == ("spoilers", "hide")
    assert found.context == ["home", "notifications", "public", "thread", "account"]
    assert [(k.keyword, k.whole_word) for k in found.keywords.all()] == [
        ("spoilers", True)
    ]
