"""Moderation with due process: the published rules, the notices people file
(reports), the cases that group them, and the append-only log of every step.

Names follow Mastodon's reports and the EU Digital Services Act: a report is an
Art. 16 notice; a case is the unit a moderator works on; the log is hash-chained so
an edited or deleted entry is detected (docs/adr/0008-moderation-cases.md).
Models hold data only; nothing in Tribune updates or deletes a log entry, and
``moderation.log.verify_log`` proves it."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from tribune.core.fields import IdField


class Tier(models.IntegerChoices):
    """Severity tiers, most severe first (moderation reference §7.2). The target
    time to first human action is ``TIER_DEADLINES``."""

    P0 = 0, "P0"
    P1 = 1, "P1"
    P2 = 2, "P2"
    P3 = 3, "P3"
    P4 = 4, "P4"


class Ground(models.TextChoices):
    """Why a rule exists: the instance's terms (``tc``) or the law (``law``)."""

    TERMS = "tc", "Terms and conditions"
    LAW = "law", "Law"


class Rule(models.Model):
    """One published instance rule (``/api/v1/instance/rules``), ordered by
    ``position``, with the severity tier that reports citing it start in."""

    text = models.CharField(max_length=300)
    hint = models.TextField(blank=True, default="")
    position = models.PositiveIntegerField(default=0)
    severity_tier = models.PositiveSmallIntegerField(choices=Tier.choices, default=Tier.P3)
    ground = models.CharField(max_length=3, choices=Ground.choices, default=Ground.TERMS)
    legal_reference = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.text


class ReportCategory(models.TextChoices):
    """Mastodon's report categories (``Report#category``)."""

    OTHER = "other"
    SPAM = "spam"
    LEGAL = "legal"
    VIOLATION = "violation"


class CaseState(models.TextChoices):
    OPEN = "open"
    DECIDED = "decided"
    CLOSED = "closed"


class Case(models.Model):
    """All open reports about one subject (a status, or an account when no single
    status is named). ``subject_key`` is ``status:<id>`` or ``account:<id>``; at
    most one case per subject is open at a time."""

    id = IdField()
    subject_key = models.CharField(max_length=40)
    target_account = models.ForeignKey("accounts.Account", on_delete=models.PROTECT,
                                       related_name="+")
    status = models.ForeignKey("statuses.Status", null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    # A frozen copy of the subject as first reported, kept as evidence even if the
    # author deletes it: {"text", "content", "spoiler_text", "url", "created_at"}.
    subject_snapshot = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=10, choices=CaseState.choices, default=CaseState.OPEN)
    severity_tier = models.PositiveSmallIntegerField(choices=Tier.choices)
    priority = models.IntegerField(default=0)
    deadline_at = models.DateTimeField()
    report_count = models.PositiveIntegerField(default=0)
    reporter_count = models.PositiveIntegerField(default=0)
    automated_detection = models.BooleanField(default=False)
    alleges_illegal = models.BooleanField(default=False)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subject_key"], condition=Q(state="open"),
                                    name="one_open_case_per_subject"),
        ]
        indexes = [
            # next_case(): tier, then the earliest deadline, then priority.
            models.Index(fields=["state", "severity_tier", "deadline_at", "-priority", "id"],
                         name="case_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.subject_key} (P{self.severity_tier}, {self.state})"


class Report(models.Model):
    """A notice about an account or some of its statuses (Mastodon's Report; DSA
    Art. 16). ``reporter`` is None for an anonymous notice of illegal content."""

    id = IdField()
    reporter = models.ForeignKey("accounts.Account", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    target_account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE,
                                       related_name="+")
    statuses = models.ManyToManyField("statuses.Status", blank=True, related_name="+")
    rules = models.ManyToManyField(Rule, blank=True, related_name="+")
    category = models.CharField(max_length=10, choices=ReportCategory.choices,
                                default=ReportCategory.OTHER)
    comment = models.TextField(blank=True, default="")
    forward = models.BooleanField(default=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="reports")
    created_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField()
    action_taken_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"report {self.pk} on {self.case.subject_key}"


class LogHead(models.Model):
    """The one row that holds the end of the log's chain; writers lock it, so entries
    get consecutive ``seq`` numbers and each links to the one before."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"log head at {self.seq}"


class LogEntry(models.Model):
    """One step of moderation (``report.created``, ``case.opened``, ...), never
    changed or deleted. ``hash`` = sha256(``prev_hash`` + canonical JSON of the
    entry), so ``verify_log`` finds any edit, deletion or reordering."""

    seq = models.BigIntegerField(unique=True)
    created_at = models.DateTimeField()
    actor = models.ForeignKey("accounts.Account", null=True, blank=True,
                              on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    actor_kind = models.CharField(max_length=10)  # human, jury, system, detector
    action = models.CharField(max_length=40)
    target_type = models.CharField(max_length=20)
    target_id = models.BigIntegerField()
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.DO_NOTHING,
                             db_constraint=False, related_name="+")
    payload = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"{self.seq} {self.action} {self.target_type}:{self.target_id}"


class FlagRule(models.Model):
    """An operator's keyword or regular expression for the rule-based flagger
    (``detectors.KeywordDetector``). A match only opens or raises a case."""

    pattern = models.CharField(max_length=200)
    is_regex = models.BooleanField(default=False)
    severity_tier = models.PositiveSmallIntegerField(choices=Tier.choices, default=Tier.P3)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.pattern


class AutomatedFlag(models.Model):
    """What a detector said about a status (moderation reference §8.3). It can
    never act: it is evidence on a case, nothing more."""

    id = IdField()
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="flags")
    status = models.ForeignKey("statuses.Status", null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    detector_name = models.CharField(max_length=60)
    detector_version = models.CharField(max_length=30)
    label = models.CharField(max_length=200)
    score = models.FloatField()
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.detector_name}@{self.detector_version}: {self.label} ({self.score:.2f})"
