"""PDQ hash matching (moderation reference §7.4): near-duplicates match within
Hamming distance 31, featureless images are discarded, and a match only opens a
case (§8.12, behaviour 1). Images are drawn here with Pillow."""

from __future__ import annotations

import io
import os
import random

import pytest

from tribune.core.errors import ValidationFailed
from tribune.moderation import hashing
from tribune.moderation.detectors import DETECTORS, PdqDetector
from tribune.moderation.models import (
    AutomatedFlag,
    Case,
    Decision,
    HashBankEntry,
    LogEntry,
    Tier,
)
from tribune.statuses.models import Status
from tribune.statuses.selectors import status_get_visible
from tribune.statuses.services import status_create


def _require_pdq() -> None:
    """Skip without the ``hashing`` extra, or fail where services are required."""
    if not hashing.available():
        message = "pdqhash is not installed (install the 'hashing' extra: uv sync --extra hashing)"
        if os.environ.get("TRIBUNE_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def pdq():
    _require_pdq()


def drawing(seed: int, size=(640, 480)):
    """A picture of random overlapping shapes, the same for the same seed."""
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    image = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    width, height = size
    for _ in range(40):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        box = [x0, y0, x0 + rng.randrange(20, width // 2), y0 + rng.randrange(20, height // 2)]
        colour = tuple(rng.randrange(256) for _ in range(3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=colour)
    return image


def encoded(image, fmt="PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def altered(image) -> bytes:
    """A re-upload: scaled down, a little brighter, re-encoded as a lossy JPEG."""
    from PIL import ImageEnhance

    smaller = image.resize((image.width * 3 // 4, image.height * 3 // 4))
    brighter = ImageEnhance.Brightness(smaller).enhance(1.08)
    return encoded(brighter, "JPEG", quality=70)


def test_pdq_hash_shape(pdq):
    digest, quality = hashing.pdq_hash(encoded(drawing(1)))
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert quality >= hashing.QUALITY_THRESHOLD
    assert hashing.pdq_hash(encoded(drawing(1), "JPEG", quality=95))[0] != ""
    with pytest.raises(ValidationFailed):
        hashing.pdq_hash(b"GIF89a but not really an image")
    with pytest.raises(ValidationFailed):
        hashing.pdq_hash(encoded(drawing(1))[:200])  # truncated


@pytest.mark.django_db
def test_an_altered_copy_matches_and_an_unrelated_image_does_not(pdq):
    original = drawing(7)
    entry = hash_bank_entry = hashing.hash_bank_add(image_bytes=encoded(original),
                                                    label="removed image")
    assert (hash_bank_entry.severity_tier, hash_bank_entry.label) == (Tier.P1, "removed image")
    assert LogEntry.objects.filter(action="hashbank.added", target_id=entry.pk).exists()

    matches = hashing.hash_bank_match(altered(original))
    assert [m[0].pk for m in matches] == [entry.pk]
    distance = matches[0][1]
    assert 0 <= distance <= hashing.MATCH_THRESHOLD
    assert distance == hashing.hamming(entry.pdq, hashing.pdq_hash(altered(original))[0])

    unrelated = encoded(drawing(8))
    assert hashing.hamming(entry.pdq, hashing.pdq_hash(unrelated)[0]) > hashing.MATCH_THRESHOLD
    assert hashing.hash_bank_match(unrelated) == []


@pytest.mark.django_db
def test_a_flat_image_is_discarded(pdq):
    from PIL import Image

    flat = encoded(Image.new("RGB", (300, 200), (90, 90, 90)))
    assert hashing.pdq_hash(flat)[1] < hashing.QUALITY_THRESHOLD
    with pytest.raises(ValidationFailed):
        hashing.hash_bank_add(image_bytes=flat)
    assert not HashBankEntry.objects.exists()
    # Even against an entry with the very same (low-quality) hash, nothing matches.
    digest, quality = hashing.pdq_hash(flat)
    HashBankEntry.objects.create(pdq=digest, quality=quality, created_at="2025-01-01T00:00Z")
    assert hashing.hash_bank_match(flat) == []


@pytest.mark.django_db
def test_a_match_opens_a_case_and_changes_nothing_else(pdq, alice, bob):
    original = drawing(21)
    hashing.hash_bank_add(image_bytes=encoded(original), label="removed image")
    severe = hashing.hash_bank_add(image_bytes=encoded(original, "JPEG", quality=90),
                                   tier=Tier.P0)
    status = status_create(account=alice, text="look at this")
    before = Status.objects.filter(pk=status.pk).values().get()

    flags = hashing.image_scan(status=status, image_bytes=altered(original))

    assert len(flags) == 2
    assert {f.detector_name for f in flags} == {"pdq"}
    assert {f.detector_version for f in flags} == {hashing.pdq_version()}
    assert all(0.87 < f.score <= 1.0 for f in flags)
    case = Case.objects.get()
    assert case.automated_detection and case.state == "open"
    assert case.severity_tier == severe.severity_tier  # the most severe entry's tier
    assert case.subject_key == f"status:{status.pk}"
    assert not Decision.objects.exists()
    assert Status.objects.filter(pk=status.pk).values().get() == before
    assert status_get_visible(status_id=status.pk, viewer=bob).pk == status.pk
    assert status_get_visible(status_id=status.pk, viewer=None).pk == status.pk

    # An unrelated image of another status flags nothing.
    other = status_create(account=alice, text="holiday")
    assert hashing.image_scan(status=other, image_bytes=encoded(drawing(22))) == []
    assert AutomatedFlag.objects.count() == 2


def test_the_detector_is_listed_when_available(pdq):
    assert any(d.name == "pdq" for d in DETECTORS)
    assert PdqDetector().version == hashing.pdq_version() != "unavailable"


@pytest.mark.django_db
def test_without_pdqhash_the_detector_is_unavailable_and_skipped(monkeypatch, alice):
    monkeypatch.setattr(hashing, "pdqhash", None)
    detector = PdqDetector()
    assert not detector.available and detector.version == "unavailable"
    status = status_create(account=alice, text="an image post")
    assert detector.scan(status) == []
    assert detector.scan_image(status, b"not even looked at") == []
    assert hashing.image_scan(status=status, image_bytes=b"not even looked at") == []
    assert not Case.objects.exists()
    with pytest.raises(hashing.HashingUnavailable):
        hashing.pdq_hash(b"")
