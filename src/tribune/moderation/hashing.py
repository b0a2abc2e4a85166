"""Perceptual image hashing with Meta's PDQ, and the local hash bank.

The bank holds hashes of images that people removed, so that a re-upload (resized,
re-encoded, slightly edited) is flagged for review (moderation reference §7.4). A
match only opens or raises a case, like every automated finding; it never changes
what anyone can see.

Matching follows ThreatExchange's PDQ signal type (``python-threatexchange``,
``threatexchange/signal_type/pdq/signal.py``): two hashes match when their Hamming
distance is at most 31 of 256 bits (``PDQ_CONFIDENT_MATCH_THRESHOLD``), and hashes
of quality below 50 (``QUALITY_THRESHOLD``: flat or featureless images) are
discarded, because such images collide with many others.

PDQ needs the optional ``hashing`` extra (pdqhash, NumPy, Pillow); without it
:func:`available` is False, the detector is skipped and :func:`pdq_hash` raises
HashingUnavailable.
"""

from __future__ import annotations

import io
from importlib import metadata

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tribune.core.errors import ValidationFailed
from tribune.media.models import MediaAttachment, MediaType, ProcessingState
from tribune.moderation.log import log_append
from tribune.moderation.models import AutomatedFlag, HashBankEntry, Tier
from tribune.statuses.models import Status

try:
    import numpy
    import pdqhash
    from PIL import Image, ImageOps
except ImportError:  # the optional "hashing" extra is not installed
    numpy = pdqhash = Image = ImageOps = None

MATCH_THRESHOLD = 31  # Hamming distance out of 256 bits (ThreatExchange)
QUALITY_THRESHOLD = 50  # lower-quality hashes are discarded (ThreatExchange)
HASH_BITS = 256
LABEL_MAX = 200
# PDQ works on a 64x64 downsample, so hashing a smaller copy of a huge image costs
# little accuracy and bounds the time one upload can take.
MAX_SIDE = 1024


class HashingUnavailable(RuntimeError):
    """PDQ hashing was asked for but the ``hashing`` extra is not installed."""


def available() -> bool:
    """Whether PDQ hashing can run here (the ``hashing`` extra is installed)."""
    return pdqhash is not None


def pdq_version() -> str:
    """The installed pdqhash version (a detector's version), or ``"unavailable"``."""
    if not available():
        return "unavailable"
    try:
        return metadata.version("pdqhash")
    except metadata.PackageNotFoundError:  # pragma: no cover - imported but unlisted
        return "unknown"


def pdq_hash(image_bytes: bytes) -> tuple[str, int]:
    """The PDQ hash of an encoded image (any format Pillow reads) as 64 hex
    digits, with its quality (0–100; below 50 the hash is unreliable).

    The image is turned upright by its EXIF orientation and hashed in RGB, its
    first frame if animated. Raises ValidationFailed when the bytes are not an
    image Pillow can decode, HashingUnavailable without the ``hashing`` extra.
    """
    if not available():
        raise HashingUnavailable("PDQ hashing needs the 'hashing' extra (pdqhash)")
    try:
        with Image.open(io.BytesIO(image_bytes)) as opened:
            image = ImageOps.exif_transpose(opened).convert("RGB")
    except (OSError, SyntaxError, ValueError, TypeError, Image.DecompressionBombError):
        # UnidentifiedImageError is an OSError; truncated files raise OSError too.
        raise ValidationFailed(_("Validation failed: The file is not an image")) from None
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    bits, quality = pdqhash.compute(numpy.asarray(image))
    return numpy.packbits(numpy.asarray(bits, dtype=numpy.uint8)).tobytes().hex(), int(quality)


def hamming(a: str, b: str) -> int:
    """The number of differing bits between two hashes given as hex digits."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def hash_bank_add(*, image_bytes: bytes, decision=None, tier: int = Tier.P1,
                  label: str = "") -> HashBankEntry:
    """Add an image's PDQ hash to the bank (logged as ``hashbank.added``), so that
    later uploads of it are flagged at ``tier`` (P1 by default). ``decision`` is
    the decision that removed the image, if any; ``label`` says what it is.

    Raises ValidationFailed for a non-image, an unknown tier, a label over 200
    characters, or an image whose hash quality is below 50 (it would match too
    many unrelated images), HashingUnavailable without the ``hashing`` extra.
    """
    if tier not in Tier.values:
        raise ValidationFailed(_("Validation failed: Severity tier is not included in the list"))
    if len(label) > LABEL_MAX:
        raise ValidationFailed(_("Validation failed: Label is too long (maximum is "
                                 "%(max)d characters)") % {"max": LABEL_MAX})
    digest, quality = pdq_hash(image_bytes)
    if quality < QUALITY_THRESHOLD:
        raise ValidationFailed(
            _("Validation failed: The image has too little detail to be matched reliably "
              "(quality %(quality)d, at least %(min)d needed)")
            % {"quality": quality, "min": QUALITY_THRESHOLD})
    with transaction.atomic():
        entry = HashBankEntry.objects.create(
            pdq=digest, quality=quality, decision=decision, severity_tier=tier,
            label=label.strip(), created_at=timezone.now())
        log_append(action="hashbank.added", target_type="hash", target_id=entry.pk,
                   case_id=decision.case_id if decision is not None else None,
                   actor_kind="system",
                   payload={"pdq": digest, "quality": quality, "tier": tier,
                            "decision": str(decision.pk) if decision is not None else None})
    return entry


def status_images(status_id: int) -> list[bytes]:
    """The pictures of a status's processed attachments, read from storage: each
    image itself, or the preview frame of a video or gifv (audio has none)."""
    images = []
    for media in MediaAttachment.objects.filter(status_id=status_id,
                                                state=ProcessingState.DONE):
        field = media.file if media.type == MediaType.IMAGE else media.thumbnail
        if field:
            try:
                with field.open("rb") as handle:
                    images.append(handle.read())
            except OSError:
                continue  # a file gone missing hashes nothing
    return images


def hash_bank_add_removed(*, decision) -> int:
    """Put the pictures of a status that people removed into the bank, so a
    re-upload is flagged for review (moderation reference §7.4). Returns how many
    were added; 0 when the matcher is unavailable or the status has no pictures."""
    if not available() or decision.status_id is None:
        return 0
    added = 0
    for image in status_images(decision.status_id):
        try:
            hash_bank_add(image_bytes=image, decision=decision,
                          tier=Tier.P1, label=f"removed by decision {decision.pk}")
        except ValidationFailed:
            continue  # too flat to hash reliably, or not a picture
        added += 1
    return added


def hash_bank_match(image_bytes: bytes) -> list[tuple[HashBankEntry, int]]:
    """The bank entries an image matches, as ``(entry, distance)`` pairs, closest
    first: Hamming distance at most 31 of 256 bits. An image whose hash quality is
    below 50 matches nothing (its hash is discarded), and so do bank entries below
    it. The bank is scanned in full, which suits a local bank of removed images;
    a shared list of millions would need an index (ThreatExchange uses FAISS).

    Raises ValidationFailed for a non-image, HashingUnavailable without the
    ``hashing`` extra.
    """
    digest, quality = pdq_hash(image_bytes)
    if quality < QUALITY_THRESHOLD:
        return []
    matches = []
    for entry in HashBankEntry.objects.filter(quality__gte=QUALITY_THRESHOLD).order_by("id"):
        distance = hamming(digest, entry.pdq)
        if distance <= MATCH_THRESHOLD:
            matches.append((entry, distance))
    matches.sort(key=lambda pair: pair[1])
    return matches


def image_scan(*, status: Status, image_bytes: bytes) -> list[AutomatedFlag]:
    """Run the PDQ matcher on one image of ``status`` and record each match as a
    flag (``services.flag_create``): the status's case is opened or raised, and
    nothing else changes. Returns the flags; none when hashing is unavailable.

    Raises ValidationFailed for a non-image.
    """
    from tribune.moderation.detectors import PdqDetector
    from tribune.moderation.services import flag_create

    detector = PdqDetector()
    return [flag_create(status=status, detector_name=detector.name,
                        detector_version=detector.version, label=found.label,
                        score=found.score, tier=found.tier)
            for found in detector.scan_image(status, image_bytes)]
