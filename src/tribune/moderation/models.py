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
from django.utils.translation import gettext_lazy as _

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
    # Bumped by every published change; a decision records the version it applied.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.text


class ReportCategory(models.TextChoices):
    """Mastodon's report categories (``Report#category``)."""

    OTHER = "other", _("Other")
    SPAM = "spam", _("Spam")
    LEGAL = "legal", _("Illegal content")
    VIOLATION = "violation", _("Breaks a rule")


class CaseState(models.TextChoices):
    """``open`` (in the staff queue), ``jury`` (with a panel; out of the staff
    queue until the panel ends), ``decided``."""

    OPEN = "open", _("Open")
    JURY = "jury", _("With a jury")
    DECIDED = "decided", _("Decided")
    CLOSED = "closed", _("Closed")


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
    # Set when a jury could not decide: the case is back with staff, first in its tier.
    escalated = models.BooleanField(default=False)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subject_key"],
                                    condition=Q(state__in=["open", "jury"]),
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
    # DSA Art. 16(2) notice of illegal content (the anonymous form fills these):
    # (a) explanation, (b) exact URL, (c) name and e-mail (optional for child
    # sexual abuse material), (d) good-faith statement; ``legal_category`` is a
    # Transparency Database ``STATEMENT_CATEGORY_*`` value.
    reporter_name = models.CharField(max_length=200, blank=True, default="")
    reporter_email = models.EmailField(blank=True, default="")
    subject_url = models.CharField(max_length=500, blank=True, default="")
    explanation = models.TextField(blank=True, default="")
    good_faith_confirmed = models.BooleanField(default=False)
    legal_category = models.CharField(max_length=80, blank=True, default="")
    created_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField()
    action_taken_at = models.DateTimeField(null=True, blank=True)
    # Art. 16(5): when the reporter was told the outcome.
    outcome_notified_at = models.DateTimeField(null=True, blank=True)
    # Set by the deciding moderator (Art. 23: "evident to a layperson").
    manifestly_unfounded = models.BooleanField(null=True, blank=True)
    # Filed while the reporter's notices were suspended (Art. 23(2)): kept as
    # evidence, gives the case no priority.
    muted = models.BooleanField(default=False)

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


class Restriction(models.TextChoices):
    """What a decision does, least severe first (the issue's proportionate and
    reversible ladder). ``none`` is a decision to take no action."""

    NONE = "none", _("No action")
    LABEL = "label", _("Content warning")
    REDUCE = "reduce", _("Reduced reach")
    REMOVE = "remove", _("Removal")
    FREEZE = "freeze", _("Account frozen (read-only)")
    SUSPEND = "suspend", _("Account suspended")


class DecisionKind(models.TextChoices):
    INITIAL = "initial"
    APPEAL = "appeal"
    REVERSAL_PROACTIVE = "reversal_proactive"


class DecidedVia(models.TextChoices):
    """Who decided. There is deliberately no automated choice."""

    MODERATOR = "moderator", _("Moderator")
    JURY = "jury", _("Jury")
    APPEAL_REVIEWER = "appeal_reviewer", _("Appeal reviewer")


class Decision(models.Model):
    """A decision on a case, with the DSA Art. 17 statement of reasons. Never
    changed after it is made (apart from the delivery and lifting times); a
    reversal or modification is a new decision that ``supersedes`` it.

    The ``decision_*`` … ``puid`` fields carry exactly the names and values of
    the EU Transparency Database statement (moderation reference §1.6);
    list-valued ones are JSON arrays. ``ends_at`` is the precise end of a
    temporary restriction; ``end_date_*`` are its calendar dates for the export.
    """

    id = IdField()
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="decisions")
    supersedes = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="superseded_by")
    kind = models.CharField(max_length=20, choices=DecisionKind.choices,
                            default=DecisionKind.INITIAL)
    decided_by = models.ForeignKey("accounts.Account", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_via = models.CharField(max_length=20, choices=DecidedVia.choices)
    target_account = models.ForeignKey("accounts.Account", on_delete=models.PROTECT,
                                       related_name="+")
    status = models.ForeignKey("statuses.Status", null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    restriction = models.CharField(max_length=10, choices=Restriction.choices)
    label_text = models.CharField(max_length=200, blank=True, default="")
    rule = models.ForeignKey(Rule, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    rule_version = models.PositiveIntegerField(null=True, blank=True)
    # --- Art. 17(3) / Transparency Database statement fields -------------------
    decision_visibility = models.JSONField(default=list, blank=True)
    decision_visibility_other = models.CharField(max_length=500, blank=True, default="")
    decision_provision = models.CharField(max_length=60, blank=True, default="")
    decision_account = models.CharField(max_length=60, blank=True, default="")
    account_type = models.CharField(max_length=40, blank=True, default="")
    decision_ground = models.CharField(max_length=60, blank=True, default="")
    decision_ground_reference_url = models.CharField(max_length=500, blank=True, default="")
    illegal_content_legal_ground = models.CharField(max_length=500, blank=True, default="")
    illegal_content_explanation = models.TextField(blank=True, default="")
    incompatible_content_ground = models.CharField(max_length=500, blank=True, default="")
    incompatible_content_explanation = models.TextField(blank=True, default="")
    incompatible_content_illegal = models.CharField(max_length=3, blank=True, default="")
    content_type = models.JSONField(default=list, blank=True)
    content_type_other = models.CharField(max_length=500, blank=True, default="")
    category = models.CharField(max_length=80, blank=True, default="")
    category_addition = models.JSONField(default=list, blank=True)
    category_specification = models.JSONField(default=list, blank=True)
    category_specification_other = models.CharField(max_length=500, blank=True, default="")
    territorial_scope = models.JSONField(default=list, blank=True)
    content_language = models.CharField(max_length=2, blank=True, default="")
    content_date = models.DateField()
    application_date = models.DateField()
    end_date_account_restriction = models.DateField(null=True, blank=True)
    end_date_visibility_restriction = models.DateField(null=True, blank=True)
    end_date_service_restriction = models.DateField(null=True, blank=True)
    decision_facts = models.TextField()
    source_type = models.CharField(max_length=40)
    source_identity = models.CharField(max_length=500, blank=True, default="")
    automated_detection = models.CharField(max_length=3)  # "Yes" / "No"
    automated_decision = models.CharField(max_length=40)
    puid = models.CharField(max_length=500, unique=True)
    # --- delivery and life cycle ----------------------------------------------
    statement_text = models.TextField()  # the notice as the affected user reads it
    ends_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    author_notified_at = models.DateTimeField(null=True, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    appeal_deadline = models.DateTimeField()
    lifted_at = models.DateTimeField(null=True, blank=True)  # ended, or superseded

    class Meta:
        indexes = [models.Index(fields=["target_account", "-created_at"]),
                   models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"decision {self.pk}: {self.restriction} on {self.case.subject_key}"


class Strike(models.Model):
    """A mark on an account from a restrictive decision (Mastodon's AccountWarning
    as a strike; Ozone's ``strikeCount``). Active while not overruled and not
    expired. Enough active weight proposes escalation to a moderator; it never
    restricts by itself."""

    id = IdField()
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE,
                                related_name="+")
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="strikes")
    rule = models.ForeignKey(Rule, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    weight = models.PositiveSmallIntegerField(default=1)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    overruled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["account", "expires_at"])]

    def __str__(self) -> str:
        return f"strike on {self.account_id} until {self.expires_at:%Y-%m-%d}"


class AppealState(models.TextChoices):
    PENDING = "pending", _("Waiting for a reviewer")  # nobody uninvolved yet
    ASSIGNED = "assigned", _("Being reviewed")
    UPHELD = "upheld", _("Upheld")
    REVERSED = "reversed", _("Reversed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Appeal(models.Model):
    """A complaint against a decision (DSA Art. 20): by the affected author, or by
    a reporter against a decision to take no action. Decided by someone who was
    not involved (Santa Clara Principles 2.0, Appeal)."""

    id = IdField()
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="appeals")
    appellant = models.ForeignKey("accounts.Account", on_delete=models.CASCADE,
                                  related_name="+")
    appellant_role = models.CharField(max_length=10)  # author, reporter
    text = models.TextField()
    state = models.CharField(max_length=10, choices=AppealState.choices,
                             default=AppealState.PENDING)
    reviewer = models.ForeignKey("accounts.Account", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    resolution = models.ForeignKey(Decision, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    reasoned_response = models.TextField(blank=True, default="")
    filed_at = models.DateTimeField()
    assigned_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    # When the instance was told that no uninvolved reviewer exists.
    alert_raised_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["decision", "appellant"],
                                               name="one_appeal_per_decision_and_appellant")]

    def __str__(self) -> str:
        return f"appeal {self.pk} on decision {self.decision_id} ({self.state})"


class JurorProfile(models.Model):
    """A user who opted in to serve on juries (moderation reference §8.7)."""

    account = models.OneToOneField("accounts.Account", on_delete=models.CASCADE,
                                   related_name="+")
    opted_in_at = models.DateTimeField()
    quiz_passed_at = models.DateTimeField(null=True, blank=True)
    opted_out_at = models.DateTimeField(null=True, blank=True)
    cases_served = models.PositiveIntegerField(default=0)
    last_served_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"juror {self.account_id}"


class PanelState(models.TextChoices):
    VOTING = "voting", _("Voting")
    DECIDED = "decided", _("Decided")
    HUNG = "hung", _("Hung")  # closed without a supermajority: back to staff
    EXPIRED = "expired", _("Expired")  # deadline passed without quorum: back to staff


class JuryPanel(models.Model):
    """Jurors drawn at random for one case. ``seed`` and the sorted candidate
    ids reproduce the draw; votes stay hidden until the panel closes."""

    id = IdField()
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="panels")
    size = models.PositiveSmallIntegerField()
    quorum = models.PositiveSmallIntegerField()
    threshold = models.PositiveSmallIntegerField()  # votes needed for a verdict
    seed = models.CharField(max_length=64)
    state = models.CharField(max_length=10, choices=PanelState.choices,
                             default=PanelState.VOTING)
    opened_at = models.DateTimeField()
    deadline_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    decision = models.ForeignKey(Decision, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")

    def __str__(self) -> str:
        return f"panel {self.pk} on case {self.case_id} ({self.state})"


class JuryMembership(models.Model):
    panel = models.ForeignKey(JuryPanel, on_delete=models.CASCADE, related_name="members")
    juror = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    invited_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["panel", "juror"],
                                               name="one_seat_per_juror")]

    def __str__(self) -> str:
        return f"{self.juror_id} on panel {self.panel_id}"


class Verdict(models.TextChoices):
    VIOLATES = "violates", _("Breaks the rules")
    DOES_NOT_VIOLATE = "does_not_violate", _("Does not break the rules")
    ABSTAIN = "abstain", _("Abstain")


class JuryVote(models.Model):
    """One juror's blind vote, never changed."""

    membership = models.OneToOneField(JuryMembership, on_delete=models.CASCADE,
                                      related_name="vote")
    verdict = models.CharField(max_length=20, choices=Verdict.choices)
    rule = models.ForeignKey(Rule, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    proposed_restriction = models.CharField(max_length=10, choices=Restriction.choices,
                                            blank=True, default="")
    rationale = models.TextField()
    cast_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"vote by membership {self.membership_id}"


class SanctionKind(models.TextChoices):
    """DSA Art. 23 and Art. 24(1)(b)'s three kinds."""

    ILLEGAL_CONTENT = "manifestly_illegal_content"
    UNFOUNDED_NOTICES = "manifestly_unfounded_notices"
    UNFOUNDED_COMPLAINTS = "manifestly_unfounded_complaints"


class MisuseSanction(models.Model):
    """A prior warning (``stage="warning"``) or a bounded suspension of the
    processing of someone's notices (``stage="suspension"``, Art. 23(2)),
    with the Art. 23(3) evidence (counts in the window, proportion)."""

    id = IdField()
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE,
                                related_name="+")
    kind = models.CharField(max_length=40, choices=SanctionKind.choices)
    stage = models.CharField(max_length=10)  # warning, suspension
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    evidence = models.JSONField(default=dict)
    decided_by = models.ForeignKey("accounts.Account", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["account", "kind", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.stage} ({self.kind}) for {self.account_id}"


class HashBankEntry(models.Model):
    """A PDQ hash (256 bits as 64 hex digits) of an image that people removed,
    so that a re-upload is flagged for review (moderation reference §7.4)."""

    pdq = models.CharField(max_length=64)
    quality = models.PositiveSmallIntegerField()
    decision = models.ForeignKey(Decision, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    severity_tier = models.PositiveSmallIntegerField(choices=Tier.choices, default=Tier.P1)
    label = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.pdq
