"""Hashtags whose names differ only by Latin diacritics become one (``#café`` and
``#cafe``), now that a tag's matching key folds them (``core.text.normalize_tag``).

In each group of tags with the same new key, the tag already named by the key, or
else the oldest, is kept; the others' posts and followers move to it (an account
following two of them follows it once) and their trend rows go (the next refresh
scores the kept tag from its posts). Runs in one transaction on both databases."""

from django.db import migrations

from tribune.core.text import normalize_tag


def fold_tag_names(apps, schema_editor):
    Tag = apps.get_model("statuses", "Tag")
    StatusTags = apps.get_model("statuses", "Status").tags.through
    TagFollow = apps.get_model("trends", "TagFollow")
    TagTrend = apps.get_model("trends", "TagTrend")
    groups: dict[str, list] = {}
    for tag in Tag.objects.order_by("pk").only("pk", "name").iterator():
        groups.setdefault(normalize_tag(tag.name)[:200], []).append(tag)
    for key, tags in groups.items():
        if len(tags) == 1 and tags[0].name == key:
            continue
        kept = next((t for t in tags if t.name == key), tags[0])
        merged = [t.pk for t in tags if t.pk != kept.pk]
        if merged:
            have = set(StatusTags.objects.filter(tag_id=kept.pk).values_list("status_id", flat=True))
            moved = (set(StatusTags.objects.filter(tag_id__in=merged)
                         .values_list("status_id", flat=True)) - have)
            StatusTags.objects.bulk_create(
                [StatusTags(status_id=status_id, tag_id=kept.pk) for status_id in sorted(moved)])
            StatusTags.objects.filter(tag_id__in=merged).delete()
            following = set(TagFollow.objects.filter(tag_id=kept.pk)
                            .values_list("account_id", flat=True))
            for follow in TagFollow.objects.filter(tag_id__in=merged).order_by("pk"):
                if follow.account_id in following:
                    follow.delete()
                else:
                    following.add(follow.account_id)
                    TagFollow.objects.filter(pk=follow.pk).update(tag_id=kept.pk)
            TagTrend.objects.filter(tag_id__in=merged).delete()
            Tag.objects.filter(pk__in=merged).delete()
        if kept.name != key:
            Tag.objects.filter(pk=kept.pk).update(name=key)


class Migration(migrations.Migration):

    dependencies = [
        ("statuses", "0008_quotes"),
        ("trends", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(fold_tag_names, migrations.RunPython.noop, elidable=True),
    ]
