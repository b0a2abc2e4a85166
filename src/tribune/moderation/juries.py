"""Community juries for cases of tiers P2 to P4 (moderation reference §8.7 and
§8.12, behaviours 6–8).

A moderator sends an open case to a jury: a panel is drawn at random from the
eligible jurors (``jurors.juror_pool``) who have no tie to the case (its author
and reporters, their follow, block and mute neighbours, anyone active in the
thread, earlier jurors and deciders of the case). The draw is reproducible: the
sorted candidate ids and the seed are logged, and ``random.Random(seed).sample``
of that list gives the same jurors again (:func:`panel_redraw`).

Votes are blind: while a panel votes, no selector returns any vote or tally, to
jurors or to staff. A panel closes when every seat has voted, or at its deadline
(:func:`panels_close_due`). With quorum and a supermajority it decides through
``decisions.decide`` (``decided_via="jury"``); otherwise the case goes back to
staff, escalated, and nothing is restricted: a jury that cannot agree never
defaults to removal. P0 and P1 cases are decided by staff only.
"""

from __future__ import annotations

import random
import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tribune.accounts.models import Account
from tribune.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tribune.core.ids import parse_id
from tribune.graph.models import Block, Follow, Mute
from tribune.moderation.decisions import (
    EXPLANATION_MAX,
    FACTS_MAX,
    LABEL_MAX,
    STATUS_RESTRICTIONS,
    Reasons,
    case_locked,
    decide,
    require_moderator,
)
from tribune.moderation.jurors import juror_ineligibility, juror_pool
from tribune.moderation.log import log_append
from tribune.moderation.models import (
    Case,
    CaseState,
    DecidedVia,
    Decision,
    JurorProfile,
    JuryMembership,
    JuryPanel,
    JuryVote,
    LogEntry,
    PanelState,
    Report,
    Restriction,
    Rule,
    Tier,
    Verdict,
)
from tribune.statuses.models import Favourite, Status

JURY_TIERS = frozenset({Tier.P2, Tier.P3, Tier.P4})  # P0 and P1 stay with staff (§8.12, 8)
PANEL_DURATION = timedelta(hours=72)
# Added to an escalated case's priority so it comes before its peers in the queue.
ESCALATION_PRIORITY = 100
RATIONALE_MAX = 2000
SEED_MAX = 64  # JuryPanel.seed


def conflicted_ids(case: Case, *, panel: JuryPanel | None = None,
                   now: datetime | None = None) -> set[int]:
    """Every account that may not judge ``case`` (moderation reference §8.7,
    behaviour 6): its author and reporters; anyone who follows, is followed by,
    blocks, is blocked by, mutes or is muted by one of them; anyone who posted in
    the case's thread or favourited or boosted a post in it; whoever decided the
    case; and jurors of its panels other than ``panel``."""
    now = now or timezone.now()
    parties = {case.target_account_id}
    parties |= set(Report.objects.filter(case=case, reporter__isnull=False)
                   .values_list("reporter_id", flat=True))
    ids = set(parties)
    mutes = Mute.objects.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    for rows in (Follow.objects.all(), Block.objects.all(), mutes):
        ids |= set(rows.filter(account_id__in=parties).values_list("target_id", flat=True))
        ids |= set(rows.filter(target_id__in=parties).values_list("account_id", flat=True))
    if case.status_id is not None:
        root = Status.objects.filter(pk=case.status_id).values_list("thread_id", flat=True).first()
        thread = Status.objects.filter(Q(thread_id=root or case.status_id) | Q(pk=case.status_id))
        ids |= set(thread.values_list("account_id", flat=True))
        ids |= set(Status.objects.filter(reblog_of__in=thread).values_list("account_id", flat=True))
        ids |= set(Favourite.objects.filter(status__in=thread).values_list("account_id", flat=True))
    ids |= set(Decision.objects.filter(case=case, decided_by__isnull=False)
               .values_list("decided_by_id", flat=True))
    earlier = JuryMembership.objects.filter(panel__case=case)
    if panel is not None:
        earlier = earlier.exclude(panel=panel)
    ids |= set(earlier.values_list("juror_id", flat=True))
    return ids


# --- panels -------------------------------------------------------------------

def panel_config() -> tuple[int, int, int]:
    """``(size, quorum, threshold)`` from ``TRIBUNE_JURY_SIZE``,
    ``TRIBUNE_JURY_QUORUM`` and ``TRIBUNE_JURY_THRESHOLD`` (5, 5 and 4)."""
    return (settings.TRIBUNE_JURY_SIZE, settings.TRIBUNE_JURY_QUORUM,
            settings.TRIBUNE_JURY_THRESHOLD)


def _draw(candidates: list[int], seed: str, size: int) -> list[int]:
    return random.Random(seed).sample(sorted(candidates), size)


def panel_open(*, case_id, moderator: Account, seed: str | None = None) -> JuryPanel:
    """Send an open case of tier P2–P4 to a jury drawn at random (moderation
    reference §8.7; behaviours 6 and 8). Returns the panel, voting until
    ``deadline_at`` (72 hours); the case leaves the staff queue (state ``jury``).

    The candidates are the eligible jurors minus :func:`conflicted_ids` and the
    moderator; the jurors are ``random.Random(seed).sample`` of their sorted ids,
    with ``seed`` a fresh ``secrets.token_hex(16)`` unless given. The seed and the
    candidate list are logged (``jury.panel_opened``) for :func:`panel_redraw`.

    Raises Forbidden unless ``moderator`` is staff and not the case's subject,
    NotFound for an unknown case, ValidationFailed for a case that is not open,
    a P0 or P1 case, a bad seed, or too few candidates (the case is then unchanged).
    """
    require_moderator(moderator)
    seed = secrets.token_hex(16) if seed is None else str(seed)
    if not seed or len(seed) > SEED_MAX:
        raise ValidationFailed(_("Validation failed: The seed must have 1 to %(max)d "
                                 "characters") % {"max": SEED_MAX})
    size, quorum, threshold = panel_config()
    with transaction.atomic():
        case = case_locked(case_id)
        if case.target_account_id == moderator.pk:
            raise Forbidden(_("You cannot decide a case about your own account"))
        if case.state != CaseState.OPEN:
            raise ValidationFailed(_("Validation failed: This case is not open"))
        if case.severity_tier not in JURY_TIERS:
            raise ValidationFailed(_("Validation failed: P0 and P1 cases are decided by "
                                     "moderators, never by a jury"))
        now = timezone.now()
        excluded = conflicted_ids(case, now=now) | {moderator.pk}
        candidates = sorted(juror_pool(now) - excluded)
        if len(candidates) < size:
            raise ValidationFailed(
                _("Validation failed: Not enough eligible jurors (%(found)d of %(needed)d)")
                % {"found": len(candidates), "needed": size})
        jurors = _draw(candidates, seed, size)
        panel = JuryPanel.objects.create(case=case, size=size, quorum=quorum,
                                         threshold=threshold, seed=seed, opened_at=now,
                                         deadline_at=now + PANEL_DURATION)
        JuryMembership.objects.bulk_create(
            JuryMembership(panel=panel, juror_id=j, invited_at=now) for j in jurors)
        JurorProfile.objects.filter(account_id__in=jurors).update(
            cases_served=F("cases_served") + 1, last_served_at=now)
        Case.objects.filter(pk=case.pk).update(state=CaseState.JURY)
        log_append(action="jury.panel_opened", target_type="panel", target_id=panel.pk,
                   case_id=case.pk, actor_id=moderator.pk, actor_kind="human",
                   payload={"seed": seed, "candidate_count": len(candidates),
                            "candidates": [str(c) for c in candidates],
                            "jurors": [str(j) for j in jurors], "size": size,
                            "quorum": quorum, "threshold": threshold,
                            "deadline_at": panel.deadline_at.isoformat()})
        panel_pk, deadline = panel.pk, panel.deadline_at
        transaction.on_commit(lambda: _schedule_close(panel_pk, deadline))
    return panel


def _schedule_close(panel_id: int, deadline: datetime) -> None:
    from tribune.moderation.tasks import close_jury_panel

    if close_jury_panel.get_backend().supports_defer:
        close_jury_panel.using(run_after=deadline).enqueue(str(panel_id))
    # Otherwise (a backend that runs tasks at once) panels_close_due catches it.


def _panel(panel_id, *, lock: bool = False) -> JuryPanel:
    rows = JuryPanel.objects.select_for_update() if lock else JuryPanel.objects
    try:
        return rows.select_related("case").get(pk=parse_id(panel_id))
    except (JuryPanel.DoesNotExist, TypeError, ValueError, OverflowError):
        raise NotFound(_("Record not found")) from None


def panel_redraw(panel_id) -> list[int]:
    """Draw the panel again from its seed and the candidate ids logged when it
    opened; returns the juror ids in draw order, equal to the panel's members for
    an honest draw (moderation reference §8.12, behaviour 6). Raises NotFound."""
    panel = _panel(panel_id)
    opened = LogEntry.objects.filter(action="jury.panel_opened", target_type="panel",
                                     target_id=panel.pk).first()
    if opened is None:
        raise NotFound(_("Record not found"))
    candidates = [int(c) for c in opened.payload["candidates"]]
    return _draw(candidates, opened.payload["seed"], opened.payload["size"])


# --- votes and closing --------------------------------------------------------

def _rule(rule_id) -> Rule | None:
    if rule_id in (None, ""):
        return None
    try:
        return Rule.objects.get(pk=parse_id(rule_id))
    except (Rule.DoesNotExist, TypeError, ValueError, OverflowError):
        raise ValidationFailed(_("Validation failed: Rule is not valid")) from None


def vote_cast(*, juror: Account, panel_id, verdict: str, rationale: str, rule_id=None,
              proposed_restriction: str = "") -> JuryVote:
    """Cast ``juror``'s one blind vote on a panel (moderation reference §8.7,
    behaviour 7). ``verdict`` is a ``Verdict`` value; a ``violates`` vote names
    the rule broken and proposes a restriction other than ``none`` (ignored for
    the other verdicts). Closes the panel when it is the last seat's vote.

    Raises NotFound for an unknown panel; Forbidden for someone without a seat,
    or whose tie to the case, strike or sanction appeared since the draw
    (conflicts are checked again now); ValidationFailed for a closed or overdue
    panel, a blank or over-long rationale, an unknown rule or verdict, or a
    restriction that does not fit the case; Conflict for a second vote.
    """
    rationale = rationale.strip()
    if verdict not in Verdict.values:
        raise ValidationFailed(_("Validation failed: Verdict is not included in the list"))
    if not rationale:
        raise ValidationFailed(_("Validation failed: Give the reasons for your vote"))
    if len(rationale) > RATIONALE_MAX:
        raise ValidationFailed(_("Validation failed: The reasons are too long (maximum is "
                                 "%(max)d characters)") % {"max": RATIONALE_MAX})
    rule = _rule(rule_id)
    if verdict != Verdict.VIOLATES:
        proposed_restriction = ""
    elif rule is None:
        raise ValidationFailed(_("Validation failed: Name the rule the content breaks"))
    elif proposed_restriction not in Restriction.values or proposed_restriction == Restriction.NONE:
        raise ValidationFailed(_("Validation failed: Propose a restriction"))
    now = timezone.now()
    with transaction.atomic():
        panel = _panel(panel_id, lock=True)
        membership = JuryMembership.objects.filter(panel=panel, juror=juror).first()
        if membership is None:
            raise Forbidden(_("You do not sit on this jury"))
        if panel.state != PanelState.VOTING or now >= panel.deadline_at:
            raise ValidationFailed(_("Validation failed: This jury is no longer voting"))
        if (juror.pk in conflicted_ids(panel.case, panel=panel, now=now)
                or juror_ineligibility(juror, now=now)):
            raise Forbidden(_("You can no longer vote on this case"))
        if panel.case.status_id is None and proposed_restriction in STATUS_RESTRICTIONS:
            raise ValidationFailed(_("Validation failed: This restriction applies to a post, "
                                     "and the case has none"))
        try:
            with transaction.atomic():
                vote = JuryVote.objects.create(
                    membership=membership, verdict=verdict, rule=rule,
                    proposed_restriction=proposed_restriction, rationale=rationale,
                    cast_at=now)
        except IntegrityError:
            raise Conflict(_("You have already voted")) from None
        cast = JuryVote.objects.filter(membership__panel=panel).count()
        # Who voted and how many have, never how: the log is read while others vote.
        log_append(action="jury.vote_cast", target_type="panel", target_id=panel.pk,
                   case_id=panel.case_id, actor_id=juror.pk, actor_kind="jury",
                   payload={"votes_cast": cast, "seats": panel.size})
        if cast >= panel.size:
            _close(panel, now=now)
    return vote


def _most_cited_rule(votes: list[JuryVote]) -> Rule | None:
    counts = Counter(v.rule_id for v in votes if v.rule_id)
    if not counts:
        return None
    rules = {v.rule_id: v.rule for v in votes if v.rule_id}
    return rules[min(counts, key=lambda pk: (-counts[pk], rules[pk].position, pk))]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _jury_decision(case: Case, panel: JuryPanel, votes: list[JuryVote], verdict: str,
                   tally: Counter) -> Decision | None:
    """Decide ``case`` as the panel's ``verdict`` side voted, or None when the
    decision cannot be made (e.g. the post is gone and only a post restriction
    was proposed); the case then goes back to staff like a hung jury."""
    side = [v for v in votes if v.verdict == verdict]
    rule = _most_cited_rule(side)
    restriction = Restriction.NONE
    if verdict == Verdict.VIOLATES:
        proposed = Counter(v.proposed_restriction for v in side
                           if v.proposed_restriction not in ("", Restriction.NONE))
        severity = list(Restriction.values)  # least severe first
        # The most proposed; a tie goes to the least severe (proportionality).
        restriction = min(proposed, key=lambda r: (-proposed[r], severity.index(r)))
    with translation.override(settings.LANGUAGE_CODE):
        # Counts and the rule only: the facts are published (Transparency Database)
        # and must carry no personal data, so no juror's words go here.
        facts = _("A jury of %(size)d members of this server, drawn at random from "
                  "volunteers with no tie to the people involved, voted without seeing "
                  "each other's votes: %(violates)d found that it breaks the rules, "
                  "%(fine)d that it does not, %(abstain)d abstained; %(threshold)d "
                  "votes were needed.") % {
            "size": panel.size, "violates": tally[Verdict.VIOLATES],
            "fine": tally[Verdict.DOES_NOT_VIOLATE], "abstain": tally[Verdict.ABSTAIN],
            "threshold": panel.threshold}
        if rule is not None:
            facts += " " + _("The rule most cited: %(rule)s") % {"rule": rule.text}
    reasons = Reasons(facts=_clip(facts, FACTS_MAX), ground="tc",
                      rule_id=rule.pk if rule else None,
                      explanation=_clip("\n\n".join(dict.fromkeys(v.rationale for v in side)),
                                        EXPLANATION_MAX))
    label = rule.text[:LABEL_MAX] if rule and restriction == Restriction.LABEL else ""
    try:
        with transaction.atomic():
            return decide(case=case, decided_by=None, decided_via=DecidedVia.JURY,
                          restriction=restriction, reasons=reasons, label_text=label)
    except ValidationFailed:
        return None


def _close(panel: JuryPanel, *, now: datetime) -> str:
    """Close a voting panel (locked by the caller): decide, or hand the case back
    to staff escalated. Returns the panel's new state."""
    votes = list(JuryVote.objects.filter(membership__panel=panel).select_related("rule")
                 .order_by("pk"))
    tally = Counter(v.verdict for v in votes)
    case = Case.objects.select_for_update().get(pk=panel.case_id)
    decision, state, verdict_reached = None, PanelState.HUNG, None
    if len(votes) < panel.quorum:
        state = PanelState.EXPIRED
    else:
        verdict_reached = next((v for v in (Verdict.VIOLATES, Verdict.DOES_NOT_VIOLATE)
                                if tally[v] >= panel.threshold), None)
        if verdict_reached is not None:
            decision = _jury_decision(case, panel, votes, verdict_reached, tally)
        if decision is not None:
            state = PanelState.DECIDED
    JuryPanel.objects.filter(pk=panel.pk).update(state=state, closed_at=now, decision=decision)
    if decision is None:
        # Back to staff, ahead of its peers; nothing is restricted by default.
        Case.objects.filter(pk=case.pk, state=CaseState.JURY).update(
            state=CaseState.OPEN, escalated=True,
            priority=F("priority") + ESCALATION_PRIORITY)
    log_append(action="jury.panel_closed", target_type="panel", target_id=panel.pk,
               case_id=case.pk, actor_kind="jury" if decision else "system",
               payload={"outcome": state, "votes": len(votes),
                        "violates": tally[Verdict.VIOLATES],
                        "does_not_violate": tally[Verdict.DOES_NOT_VIOLATE],
                        "abstain": tally[Verdict.ABSTAIN], "quorum": panel.quorum,
                        "threshold": panel.threshold,
                        "decision": str(decision.pk) if decision else None,
                        # A verdict whose decision could not be made (e.g. the post
                        # is gone) goes back to staff like a hung jury.
                        "decision_refused": verdict_reached is not None and decision is None,
                        "escalated": decision is None})
    return state


def panel_close_due(*, panel_id, now: datetime | None = None) -> bool:
    """Close one panel whose deadline has passed (the task scheduled for its
    deadline runs this). Idempotent: False when it is not due or already closed."""
    now = now or timezone.now()
    with transaction.atomic():
        panel = (JuryPanel.objects.select_for_update()
                 .filter(pk=parse_id(panel_id), state=PanelState.VOTING,
                         deadline_at__lte=now).first())
        if panel is None:
            return False
        _close(panel, now=now)
    return True


def panels_close_due(now: datetime | None = None) -> int:
    """Close every voting panel past its deadline: decided when quorum and the
    threshold are met, else ``hung`` or ``expired`` (without quorum) with the case
    back with staff, escalated. Returns how many panels closed."""
    now = now or timezone.now()
    due = JuryPanel.objects.filter(state=PanelState.VOTING, deadline_at__lte=now)
    return sum(panel_close_due(panel_id=pk, now=now)
               for pk in list(due.values_list("pk", flat=True)))


# --- reads --------------------------------------------------------------------

@dataclass(frozen=True)
class Tally:
    """A closed panel's count of votes."""

    votes: int
    violates: int
    does_not_violate: int
    abstain: int


@dataclass(frozen=True)
class PanelView:
    """One panel as a page shows it. ``votes`` (without jurors' names) and
    ``tally`` stay empty and None while the panel votes; ``own_vote`` is the
    viewer's own vote, if any."""

    panel: JuryPanel
    own_vote: JuryVote | None = None
    votes: tuple[JuryVote, ...] = ()
    tally: Tally | None = None

    @property
    def voting(self) -> bool:
        return self.panel.state == PanelState.VOTING


def panel_votes(*, panel_id) -> list[JuryVote]:
    """A closed panel's votes, grouped by verdict (not in the order cast, which
    the log's timestamps would tie to names); an empty list while it votes
    (blind voting, moderation reference §8.12, behaviour 7). Raises NotFound."""
    panel = _panel(panel_id)
    if panel.state == PanelState.VOTING:
        return []
    return list(JuryVote.objects.filter(membership__panel=panel).select_related("rule")
                .order_by("verdict", "proposed_restriction", "rationale"))


def panel_tally(*, panel_id) -> Tally | None:
    """A closed panel's tally; None while it votes. Raises NotFound."""
    if _panel(panel_id).state == PanelState.VOTING:
        return None
    votes = panel_votes(panel_id=panel_id)
    counts = Counter(v.verdict for v in votes)
    return Tally(votes=len(votes), violates=counts[Verdict.VIOLATES],
                 does_not_violate=counts[Verdict.DOES_NOT_VIOLATE],
                 abstain=counts[Verdict.ABSTAIN])


def _view(panel: JuryPanel, own_vote: JuryVote | None = None) -> PanelView:
    if panel.state == PanelState.VOTING:
        return PanelView(panel=panel, own_vote=own_vote)
    return PanelView(panel=panel, own_vote=own_vote,
                     votes=tuple(panel_votes(panel_id=panel.pk)),
                     tally=panel_tally(panel_id=panel.pk))


def juror_panels(*, juror: Account) -> list[PanelView]:
    """The panels ``juror`` sits on, newest first, each with the juror's own vote."""
    seats = (JuryMembership.objects.filter(juror=juror)
             .select_related("panel__case", "vote__rule").order_by("-panel__opened_at"))
    return [PanelView(panel=s.panel, own_vote=getattr(s, "vote", None)) for s in seats]


def juror_panel(*, juror: Account, panel_id) -> PanelView:
    """One panel for a juror who sits on it: the panel and its case, the juror's
    own vote, and everyone's votes once it has closed. Raises NotFound for an
    unknown panel or one the juror does not sit on."""
    panel = _panel(panel_id)
    seat = (JuryMembership.objects.filter(panel=panel, juror=juror)
            .select_related("vote__rule").first())
    if seat is None:
        raise NotFound(_("Record not found"))
    return _view(panel, getattr(seat, "vote", None))


def case_panels(*, case_id) -> list[PanelView]:
    """A case's panels, oldest first, with their votes once closed (for staff)."""
    panels = JuryPanel.objects.filter(case_id=case_id).select_related("case").order_by("opened_at")
    return [_view(panel) for panel in panels]
