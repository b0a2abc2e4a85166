"""The EU DSA Transparency Database statement of reasons: allowed values.

Values are those of the Commission's ``StatementStoreRequest`` validation and
``Statement`` model as aligned with Implementing Regulation (EU) 2024/2835 on
1 July 2025 (moderation reference §1.6). Serialising and validating a decision as a
statement lives here too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, time

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _

from tribune.moderation.models import Decision, Restriction

CATEGORIES = tuple(f"STATEMENT_CATEGORY_{name}" for name in (
    "ANIMAL_WELFARE", "CONSUMER_INFORMATION", "CYBER_VIOLENCE",
    "CYBER_VIOLENCE_AGAINST_WOMEN", "DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
    "ILLEGAL_OR_HARMFUL_SPEECH", "INTELLECTUAL_PROPERTY_INFRINGEMENTS",
    "NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS", "NOT_SPECIFIED_NOTICE",
    "OTHER_VIOLATION_TC", "PROTECTION_OF_MINORS", "RISK_FOR_PUBLIC_SECURITY",
    "SCAMS_AND_FRAUD", "SELF_HARM", "UNSAFE_AND_PROHIBITED_PRODUCTS", "VIOLENCE",
))

KEYWORDS = tuple(f"KEYWORD_{name}" for name in (
    "ADULT_SEXUAL_MATERIAL", "AGE_SPECIFIC_RESTRICTIONS", "AGE_SPECIFIC_RESTRICTIONS_MINORS",
    "ANIMAL_HARM", "BIOMETRIC_DATA_BREACH", "BULLYING_AGAINST_GIRLS",
    "CHILD_SEXUAL_ABUSE_MATERIAL", "CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE",
    "CONTENT_PROMOTING_EATING_DISORDERS", "COORDINATED_HARM", "COPYRIGHT_INFRINGEMENT",
    "CYBER_BULLYING_INTIMIDATION", "CYBER_HARASSMENT", "CYBER_HARASSMENT_AGAINST_WOMEN",
    "CYBER_INCITEMENT", "CYBER_STALKING", "CYBER_STALKING_AGAINST_WOMEN",
    "DATA_FALSIFICATION", "DEFAMATION", "DESIGN_INFRINGEMENT", "DISCRIMINATION",
    "FEMALE_GENDERED_DISINFORMATION", "GEOGRAPHIC_INDICATIONS_INFRINGEMENT",
    "GEOGRAPHICAL_REQUIREMENTS", "GOODS_SERVICES_NOT_PERMITTED",
    "GROOMING_SEXUAL_ENTICEMENT_MINORS", "HATE_SPEECH", "HIDDEN_ADVERTISEMENT",
    "HUMAN_EXPLOITATION", "HUMAN_TRAFFICKING", "ILLEGAL_ORGANIZATIONS",
    "IMPERSONATION_ACCOUNT_HIJACKING", "INAUTHENTIC_ACCOUNTS", "INAUTHENTIC_LISTINGS",
    "INAUTHENTIC_USER_REVIEWS", "INCITEMENT_AGAINST_WOMEN", "INCITEMENT_VIOLENCE_HATRED",
    "INSUFFICIENT_INFORMATION_ON_TRADERS", "LANGUAGE_REQUIREMENTS",
    "MISINFORMATION_DISINFORMATION", "MISLEADING_INFO_CONSUMER_RIGHTS",
    "MISLEADING_INFO_GOODS_SERVICES", "MISSING_PROCESSING_GROUND",
    "NON_CONSENSUAL_IMAGE_SHARING", "NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN",
    "NON_CONSENSUAL_MATERIAL_DEEPFAKE", "NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN",
    "NONCOMPLIANCE_PRICING", "NUDITY", "PATENT_INFRINGEMENT", "PHISHING",
    "PROHIBITED_PRODUCTS", "PYRAMID_SCHEMES", "RIGHT_TO_BE_FORGOTTEN",
    "RISK_ENVIRONMENTAL_DAMAGE", "RISK_PUBLIC_HEALTH", "SELF_MUTILATION", "STALKING",
    "SUICIDE", "TERRORIST_CONTENT", "TRADE_SECRET_INFRINGEMENT", "TRADEMARK_INFRINGEMENT",
    "TRAFFICKING_WOMEN_GIRLS", "UNLAWFUL_SALE_ANIMALS", "UNSAFE_CHALLENGES",
    "UNSAFE_PRODUCTS", "VIOLATION_EU_LAW", "VIOLATION_NATIONAL_LAW", "OTHER",
))

# EU member states and the other EEA countries, ISO 3166-1 alpha-2.
EEA_COUNTRIES = (
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
    "IS", "LI", "NO",
)

VISIBILITY_REMOVED = "DECISION_VISIBILITY_CONTENT_REMOVED"
VISIBILITY_DISABLED = "DECISION_VISIBILITY_CONTENT_DISABLED"
VISIBILITY_DEMOTED = "DECISION_VISIBILITY_CONTENT_DEMOTED"
VISIBILITY_LABELLED = "DECISION_VISIBILITY_CONTENT_LABELLED"
PROVISION_PARTIAL_SUSPENSION = "DECISION_PROVISION_PARTIAL_SUSPENSION"
ACCOUNT_SUSPENDED = "DECISION_ACCOUNT_SUSPENDED"
GROUND_ILLEGAL = "DECISION_GROUND_ILLEGAL_CONTENT"
GROUND_INCOMPATIBLE = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
SOURCE_ARTICLE_16 = "SOURCE_ARTICLE_16"
SOURCE_TRUSTED_FLAGGER = "SOURCE_TRUSTED_FLAGGER"
SOURCE_OTHER = "SOURCE_TYPE_OTHER_NOTIFICATION"
SOURCE_VOLUNTARY = "SOURCE_VOLUNTARY"
AUTOMATED_DECISION_NOT = "AUTOMATED_DECISION_NOT_AUTOMATED"
AUTOMATED_DECISION_PARTIALLY = "AUTOMATED_DECISION_PARTIALLY"
CONTENT_TYPE_TEXT = "CONTENT_TYPE_TEXT"
CONTENT_TYPE_OTHER = "CONTENT_TYPE_OTHER"

VISIBILITIES = (VISIBILITY_REMOVED, VISIBILITY_DISABLED, VISIBILITY_DEMOTED,
                "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
                "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED",
                VISIBILITY_LABELLED, "DECISION_VISIBILITY_OTHER")
MONETARIES = ("DECISION_MONETARY_SUSPENSION", "DECISION_MONETARY_TERMINATION",
              "DECISION_MONETARY_OTHER")
PROVISIONS = (PROVISION_PARTIAL_SUSPENSION, "DECISION_PROVISION_TOTAL_SUSPENSION",
              "DECISION_PROVISION_PARTIAL_TERMINATION", "DECISION_PROVISION_TOTAL_TERMINATION")
ACCOUNTS = (ACCOUNT_SUSPENDED, "DECISION_ACCOUNT_TERMINATED")
ACCOUNT_TYPES = ("ACCOUNT_TYPE_BUSINESS", "ACCOUNT_TYPE_PRIVATE")
GROUNDS = (GROUND_ILLEGAL, GROUND_INCOMPATIBLE)
CONTENT_TYPES = tuple(f"CONTENT_TYPE_{name}" for name in (
    "APP", "AUDIO", "IMAGE", "PRODUCT", "SYNTHETIC_MEDIA", "TEXT", "VIDEO", "OTHER"))
SOURCE_TYPES = (SOURCE_ARTICLE_16, SOURCE_TRUSTED_FLAGGER, SOURCE_OTHER, SOURCE_VOLUNTARY)
AUTOMATED_DECISION_FULLY = "AUTOMATED_DECISION_FULLY"
AUTOMATED_DECISIONS = (AUTOMATED_DECISION_FULLY, AUTOMATED_DECISION_PARTIALLY,
                       AUTOMATED_DECISION_NOT)
YES_NO = ("Yes", "No")

# ISO 639-1 two-letter language codes (``content_language`` is sent in upper case).
_ISO_639_1_CODES = """
aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu
cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi
ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks
ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl
nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl
sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve
vi vo wa wo xh yi yo za zh zu
"""
ISO_639_1 = frozenset(_ISO_639_1_CODES.split())

END_DATES = ("end_date_account_restriction", "end_date_monetary_restriction",
             "end_date_service_restriction", "end_date_visibility_restriction")
ENUMS = {
    "decision_monetary": MONETARIES, "decision_provision": PROVISIONS,
    "decision_account": ACCOUNTS, "account_type": ACCOUNT_TYPES,
    "decision_ground": GROUNDS, "incompatible_content_illegal": YES_NO,
    "category": CATEGORIES, "source_type": SOURCE_TYPES,
    "automated_detection": YES_NO, "automated_decision": AUTOMATED_DECISIONS,
}
ARRAYS = {
    "decision_visibility": VISIBILITIES, "content_type": CONTENT_TYPES,
    "category_addition": CATEGORIES, "category_specification": KEYWORDS,
    "territorial_scope": EEA_COUNTRIES,
}
MAX_LENGTHS = {
    "decision_visibility_other": 500, "decision_monetary_other": 500,
    "decision_ground_reference_url": 500, "illegal_content_legal_ground": 500,
    "illegal_content_explanation": 2000, "incompatible_content_ground": 500,
    "incompatible_content_explanation": 2000, "content_type_other": 500,
    "category_specification_other": 500, "decision_facts": 5000,
    "source_identity": 500, "puid": 500, "content_language": 2,
}
DATES = ("content_date", "application_date", *END_DATES)
FIELDS = frozenset({*ENUMS, *ARRAYS, *MAX_LENGTHS, *DATES, "content_id"})
# Required by StatementStoreRequest; territorial_scope is nullable there but the API
# documentation calls it required, so we always send it (moderation reference §1.6).
REQUIRED = ("decision_ground", "content_type", "category", "content_date",
            "application_date", "decision_facts", "source_type", "automated_detection",
            "automated_decision", "puid", "territorial_scope")
# Exactly one of these is required with the first field's value (required_if), and
# excluded otherwise: (field, the field it depends on, the value that requires it).
DEPENDENT = (
    ("decision_visibility_other", "decision_visibility", "DECISION_VISIBILITY_OTHER"),
    ("decision_monetary_other", "decision_monetary", "DECISION_MONETARY_OTHER"),
    ("content_type_other", "content_type", "CONTENT_TYPE_OTHER"),
    ("illegal_content_legal_ground", "decision_ground", GROUND_ILLEGAL),
    ("illegal_content_explanation", "decision_ground", GROUND_ILLEGAL),
    ("incompatible_content_ground", "decision_ground", GROUND_INCOMPATIBLE),
    ("incompatible_content_explanation", "decision_ground", GROUND_INCOMPATIBLE),
)
# Allowed only with that value, never required.
ONLY_WITH = (
    ("incompatible_content_illegal", "decision_ground", GROUND_INCOMPATIBLE),
    ("category_specification_other", "category_specification", "KEYWORD_OTHER"),
)
BATCH_MAX = 100  # POST /api/v1/statements takes at most 100 statements
PUID_RE = re.compile(r"^[a-zA-Z0-9\-_]+$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CONTENT_DATE_RANGE = (date(2000, 1, 1), date(2038, 1, 1))
APPLICATION_DATE_MIN = date(2020, 1, 1)
# The free text a moderator writes, published as it is.
FREE_TEXT = ("decision_facts", "illegal_content_explanation",
             "incompatible_content_explanation")
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_HANDLE_RE = re.compile(r"(?<![\w.+-])@[A-Za-z0-9_]+(?:@[\w-]+(?:\.[\w-]+)+)?")
_PROFILE_URL_RE = re.compile(r"https?://[^\s/]+/(?:@|users/|u/|profile/)[^\s]+", re.I)


def _present(statement: dict, key: str) -> bool:
    value = statement.get(key)
    return value not in (None, "", [])


def _has(statement: dict, key: str, value: str) -> bool:
    current = statement.get(key)
    return value in current if isinstance(current, list) else current == value


def personal_data(text: str) -> list[str]:
    """What in ``text`` looks like personal data, as readable problems: e-mail
    addresses, @handles (``@name`` or ``@name@domain``), links to user profiles
    (``/@name``, ``/users/name``). Statements are published, so their free text
    must carry none (DSA Art. 24(5))."""
    problems = []
    # A handle starts at an @ with nothing glued before it, so an address's @
    # is not one; take handles out first, as "@bob@host.example" looks like one.
    if _EMAIL_RE.search(_HANDLE_RE.sub(" ", text)):
        problems.append(_("contains an e-mail address"))
    if _HANDLE_RE.search(text):
        problems.append(_("contains an @handle"))
    if _PROFILE_URL_RE.search(text):
        problems.append(_("contains a link to a user's profile"))
    return problems


def _check_date(statement: dict, key: str, errors: list[str]) -> date | None:
    value = statement.get(key)
    if value is None:
        return None
    try:
        if not isinstance(value, str) or not DATE_RE.match(value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        errors.append(_("%(field)s: must be a date as YYYY-MM-DD") % {"field": key})
        return None


def validate_statement(statement: dict) -> list[str]:
    """The problems that would make the Transparency Database refuse ``statement``
    (or that our policy forbids), one readable line each; empty when it is valid.

    A local copy of ``StatementStoreRequest`` (moderation reference §1.6): no
    unknown keys; the required fields; at least one of ``decision_visibility``,
    ``decision_monetary``, ``decision_provision``, ``decision_account``
    (required_without_all); each ``*_other`` and ground field required with the
    value that needs it and excluded otherwise; enum values and ``Yes``/``No``
    literals; array fields as arrays; maximum lengths; dates ``Y-m-d`` with
    ``content_date`` in 2000-01-01…2038-01-01, ``application_date`` from
    2020-01-01 and every ``end_date_*`` not before it; ``puid`` matching
    ``^[a-zA-Z0-9-_]+$``; EU/EEA territorial codes; ``content_language`` an
    upper-case ISO 639-1 code; ``content_id`` only ``{"EAN-13": 13 digits}``.
    Our policy adds: ``automated_decision`` is never ``AUTOMATED_DECISION_FULLY``,
    and the free text carries no personal data (:func:`personal_data`).
    """
    if not isinstance(statement, dict):
        return [_("a statement must be a JSON object")]
    errors = [_("%(field)s: unknown field") % {"field": key}
              for key in sorted(set(statement) - FIELDS)]
    for key in REQUIRED:
        if not _present(statement, key):
            errors.append(_("%(field)s: is required") % {"field": key})
    if not any(_present(statement, k) for k in ("decision_visibility", "decision_monetary",
                                                "decision_provision", "decision_account")):
        errors.append(_("decision_visibility: is required when none of decision_monetary, "
                        "decision_provision and decision_account is given"))
    for key, allowed in ENUMS.items():
        value = statement.get(key)
        if value is not None and (not isinstance(value, str) or value not in allowed):
            errors.append(_("%(field)s: %(value)r is not an allowed value")
                          % {"field": key, "value": value})
    for key, allowed in ARRAYS.items():
        value = statement.get(key)
        if value is None:
            continue
        if not isinstance(value, list):
            errors.append(_("%(field)s: must be an array") % {"field": key})
            continue
        for item in value:
            if not isinstance(item, str) or item not in allowed:
                errors.append(_("%(field)s: %(value)r is not an allowed value")
                              % {"field": key, "value": item})
    for key, limit in MAX_LENGTHS.items():
        value = statement.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            errors.append(_("%(field)s: must be a string") % {"field": key})
        elif len(value) > limit:
            errors.append(_("%(field)s: is longer than %(max)d characters")
                          % {"field": key, "max": limit})
    for key, depends_on, value in DEPENDENT:
        needed = _has(statement, depends_on, value)
        if needed and not _present(statement, key):
            errors.append(_("%(field)s: is required when %(other)s is %(value)s")
                          % {"field": key, "other": depends_on, "value": value})
        elif not needed and key in statement:
            errors.append(_("%(field)s: is only allowed when %(other)s is %(value)s")
                          % {"field": key, "other": depends_on, "value": value})
    for key, depends_on, value in ONLY_WITH:
        if key in statement and not _has(statement, depends_on, value):
            errors.append(_("%(field)s: is only allowed when %(other)s is %(value)s")
                          % {"field": key, "other": depends_on, "value": value})
    content_date = _check_date(statement, "content_date", errors)
    if content_date and not CONTENT_DATE_RANGE[0] <= content_date <= CONTENT_DATE_RANGE[1]:
        errors.append(_("content_date: must be between 2000-01-01 and 2038-01-01"))
    applied = _check_date(statement, "application_date", errors)
    if applied and applied < APPLICATION_DATE_MIN:
        errors.append(_("application_date: must be 2020-01-01 or later"))
    for key in END_DATES:
        ends = _check_date(statement, key, errors)
        if ends and applied and ends < applied:
            errors.append(_("%(field)s: must not be before application_date") % {"field": key})
    puid = statement.get("puid")
    if isinstance(puid, str) and puid and not PUID_RE.match(puid):
        errors.append(_("puid: may only contain letters, digits, - and _"))
    language = statement.get("content_language")
    if isinstance(language, str) and language and (
            language != language.upper() or language.lower() not in ISO_639_1):
        errors.append(_("content_language: must be an upper-case ISO 639-1 code"))
    url = statement.get("decision_ground_reference_url")
    if isinstance(url, str) and url:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            errors.append(_("decision_ground_reference_url: must be a URL"))
    content_id = statement.get("content_id")
    if content_id is not None and not (
            isinstance(content_id, dict) and set(content_id) == {"EAN-13"}
            and re.fullmatch(r"\d{13}", str(content_id["EAN-13"]))):
        errors.append(_('content_id: may only hold "EAN-13" with 13 digits'))
    if statement.get("automated_decision") == AUTOMATED_DECISION_FULLY:
        errors.append(_("automated_decision: no decision here is fully automated"))
    for key in FREE_TEXT:
        value = statement.get(key)
        if isinstance(value, str):
            errors.extend(f"{key}: {problem}" for problem in personal_data(value))
    return errors


def statement_for(decision: Decision) -> dict:
    """The Transparency Database statement of a restrictive decision: the body of
    ``POST /api/v1/statement`` (moderation reference §1.6), with only the fields
    that apply: ``illegal_*`` only with the illegal-content ground,
    ``incompatible_*`` only with the terms ground, each ``*_other`` only with its
    ``OTHER`` value, list fields as arrays, dates as ``Y-m-d``, an ``end_date_*``
    only for a temporary restriction (absent means indefinite), ``source_identity``
    never with ``SOURCE_VOLUNTARY``. Check it with :func:`validate_statement`.

    Raises ValueError for a decision to take no action (it has no statement).
    """
    if decision.restriction == Restriction.NONE:
        raise ValueError("a decision to take no action has no statement of reasons")
    s: dict = {}
    if decision.decision_visibility:
        s["decision_visibility"] = list(decision.decision_visibility)
        if "DECISION_VISIBILITY_OTHER" in decision.decision_visibility:
            s["decision_visibility_other"] = decision.decision_visibility_other
    for key in ("decision_provision", "decision_account", "account_type"):
        if getattr(decision, key):
            s[key] = getattr(decision, key)
    s["decision_ground"] = decision.decision_ground
    if decision.decision_ground_reference_url:
        s["decision_ground_reference_url"] = decision.decision_ground_reference_url
    if decision.decision_ground == GROUND_ILLEGAL:
        s["illegal_content_legal_ground"] = decision.illegal_content_legal_ground
        s["illegal_content_explanation"] = decision.illegal_content_explanation
    else:
        s["incompatible_content_ground"] = decision.incompatible_content_ground
        s["incompatible_content_explanation"] = decision.incompatible_content_explanation
        if decision.incompatible_content_illegal:
            s["incompatible_content_illegal"] = decision.incompatible_content_illegal
    s["content_type"] = list(decision.content_type)
    if CONTENT_TYPE_OTHER in decision.content_type:
        s["content_type_other"] = decision.content_type_other
    s["category"] = decision.category
    if decision.category_addition:
        s["category_addition"] = list(decision.category_addition)
    if decision.category_specification:
        s["category_specification"] = list(decision.category_specification)
        if "KEYWORD_OTHER" in decision.category_specification:
            s["category_specification_other"] = decision.category_specification_other
    s["territorial_scope"] = list(decision.territorial_scope)
    if decision.content_language:
        s["content_language"] = decision.content_language
    s["content_date"] = decision.content_date.isoformat()
    s["application_date"] = decision.application_date.isoformat()
    for key in END_DATES:
        value = getattr(decision, key, None)
        if value is not None:
            s[key] = value.isoformat()
    s["decision_facts"] = decision.decision_facts
    s["source_type"] = decision.source_type
    if decision.source_identity and decision.source_type != SOURCE_VOLUNTARY:
        s["source_identity"] = decision.source_identity
    s["automated_detection"] = decision.automated_detection
    s["automated_decision"] = decision.automated_decision
    s["puid"] = decision.puid
    return s


def batches(statements: Sequence[dict], size: int = BATCH_MAX) -> list[list[dict]]:
    """``statements`` in order, cut into lists of at most ``size`` (1…100: the
    most ``POST /api/v1/statements`` accepts). Raises ValueError for another size."""
    if not 1 <= size <= BATCH_MAX:
        raise ValueError(f"a batch holds 1 to {BATCH_MAX} statements")
    return [list(statements[i:i + size]) for i in range(0, len(statements), size)]


def period_statements(*, start: date, end: date) -> tuple[list[dict], dict[str, list[str]]]:
    """The statements of the restrictive decisions made in ``[start, end)`` (UTC),
    oldest first, split into the valid ones and ``{puid: problems}`` for those
    :func:`validate_statement` refuses. Raises ValueError when ``start`` is after
    ``end``."""
    if start > end:
        raise ValueError("the period starts after it ends")
    lo = datetime.combine(start, time.min, tzinfo=UTC)
    hi = datetime.combine(end, time.min, tzinfo=UTC)
    valid, invalid = [], {}
    decisions = (Decision.objects.filter(created_at__gte=lo, created_at__lt=hi)
                 .exclude(restriction=Restriction.NONE).order_by("created_at", "id"))
    for decision in decisions.iterator():
        statement = statement_for(decision)
        problems = validate_statement(statement)
        if problems:
            invalid[statement["puid"]] = problems
        else:
            valid.append(statement)
    return valid, invalid
