"""Hashtags that differ only by Latin diacritics are one hashtag: new posts share
it, and the migration merges those made before (trends/migrations/0002)."""

from __future__ import annotations

from importlib import import_module

from django.apps import apps

from tribune.statuses.models import Status, Tag
from tribune.statuses.services import status_create
from tribune.trends.models import TagFollow, TagTrend
from tribune.trends.services import tag_follow

fold_tag_names = import_module("tribune.trends.migrations.0002_fold_tag_names").fold_tag_names


def test_posts_with_cafe_and_cafe_with_an_accent_share_one_tag(alice, api_as):
    first = status_create(account=alice, text="at the #Café")
    second = status_create(account=alice, text="at the #cafe again")
    assert list(first.tags.values_list("pk", flat=True)) == list(
        second.tags.values_list("pk", flat=True))
    assert Tag.objects.get().display_name == "Café"  # the first spelling seen
    found = api_as(None).get("/api/v1/timelines/tag/CAFÉ").json()
    assert sorted(s["id"] for s in found) == sorted([str(first.pk), str(second.pk)])
    assert api_as(alice).get("/api/v1/tags/cafe").json()["name"] == "Café"


def test_the_migration_merges_tags_that_fold_to_one_name(alice, bob, carol):
    # Tags as an earlier version kept them: one per spelling with diacritics.
    plain = Tag.objects.create(name="cafe", display_name="cafe")
    acute = Tag.objects.create(name="café", display_name="Café")
    umlaut = Tag.objects.create(name="zähler", display_name="Zähler")
    other = Tag.objects.create(name="tea", display_name="tea")
    both = status_create(account=alice, text="plain words")
    only_acute = status_create(account=bob, text="more words")
    counted = status_create(account=bob, text="counting")
    both.tags.set([plain, acute])
    only_acute.tags.set([acute, other])
    counted.tags.set([umlaut])
    tag_follow(account=alice, name="cafe")
    TagFollow.objects.create(account=alice, tag=acute)  # follows both spellings
    TagFollow.objects.create(account=bob, tag=acute)
    TagFollow.objects.create(account=carol, tag=umlaut)
    TagTrend.objects.create(tag=acute, score=3.0)

    fold_tag_names(apps, None)

    assert sorted(Tag.objects.values_list("name", "pk")) == sorted(
        [("cafe", plain.pk), ("tea", other.pk), ("zahler", umlaut.pk)])
    tags_of = {s.pk: sorted(s.tags.values_list("name", flat=True))
               for s in Status.objects.filter(pk__in=[both.pk, only_acute.pk, counted.pk])}
    assert tags_of == {both.pk: ["cafe"], only_acute.pk: ["cafe", "tea"],
                       counted.pk: ["zahler"]}
    assert sorted(TagFollow.objects.values_list("account__username", "tag__name")) == [
        ("alice", "cafe"), ("bob", "cafe"), ("carol", "zahler")]
    assert not TagTrend.objects.exists()  # the merged tag's trend goes; a refresh rescores
    fold_tag_names(apps, None)  # a second run changes nothing
    assert Tag.objects.count() == 3
