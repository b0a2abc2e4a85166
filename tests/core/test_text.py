"""Text processing: hashtags, mentions, links and length (Mastodon's rules)."""

from __future__ import annotations

import pytest

from tribune.core.text import (
    count_characters,
    extract_hashtags,
    extract_mentions,
    normalize_tag,
    render,
)


@pytest.mark.parametrize("text, tags", [
    ("#ｓｙｎｔｈｗａｖｅ #SynthWave", ["ｓｙｎｔｈｗａｖｅ"]),  # one tag once folded
    ("#cafe\u0301 and #café", ["café"]),                      # combining accent: NFC first
    ("#cats\u200dx", ["cats"]),                                # a zero-width joiner ends it
    ("#123 #a1 #_x", ["a1", "_x"]),                            # digits alone are no tag
    ("x#notatag (#yes) http://e.org/#frag", ["yes"]),
    ("#İstanbul #ćevapi #Zähler", ["İstanbul", "ćevapi", "Zähler"]),
    ("#スポチハイ", ["スポチハイ"]),
])
def test_hashtags(text, tags):
    assert extract_hashtags(text) == tags


def test_tag_keys_fold_width_case_and_latin_diacritics():
    assert normalize_tag("ＳｙｎｔｈＷａｖｅ") == normalize_tag("synthwave") == "synthwave"
    assert normalize_tag("cafe\u0301") == normalize_tag("café") == "cafe"  # NFKC composes
    # Latin-1 and Latin Extended-A letters lose their diacritics, as Mastodon's
    # HashtagNormalizer folds them; letters with no ASCII base are mapped one by one.
    assert normalize_tag("Zähler") == normalize_tag("ZAHLER") == "zahler"
    assert normalize_tag("ŁÓDŹ") == "lodz"
    assert normalize_tag("Ørsted") == "orsted"
    assert normalize_tag("Straße") == "strasse"  # casefold's own folding
    assert normalize_tag("Œuvre") == "œuvre"  # a ligature stays, as in Mastodon
    # Other scripts keep their marks: they change the word, not its accent.
    assert normalize_tag("हिन्दी") == "हिन्दी"
    assert normalize_tag("がっこう") == "がっこう"
    assert normalize_tag("Ελλάδα") == "ελλάδα"


def test_mentions():
    assert extract_mentions("hi @Alice and @bob@remote.example, mail a@b.c, @alice") == [
        "Alice", "bob@remote.example"]


@pytest.mark.parametrize("text, length", [
    ("hello", 5),
    ("👩‍👩‍👧" * 3, 3),                                   # one grapheme per family
    ("e\u0301", 1),
    ("see https://example.org/" + "a" * 100, 4 + 23),
    ("@bob@remote.example hi", len("@bob hi")),
])
def test_count_characters(text, length):
    assert count_characters(text) == length


def test_render_links_and_escapes():
    html = render("<b>hi</b> @bob #Tag https://example.org/x",
                  mention_url=lambda h: "https://s.example/@bob" if h == "bob" else None,
                  tag_url=lambda n: f"https://s.example/tags/{normalize_tag(n)}")
    assert "&lt;b&gt;hi&lt;/b&gt;" in html
    assert 'href="https://s.example/@bob"' in html
    assert 'href="https://s.example/tags/tag"' in html
    assert 'href="https://example.org/x"' in html
    assert html.startswith("<p>") and html.endswith("</p>")


def test_render_unknown_mention_stays_text():
    assert render("@nobody", mention_url=lambda h: None, tag_url=str) == "<p>@nobody</p>"
