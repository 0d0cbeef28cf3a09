"""The fields a segment's conditions test that contacts keep: the contact's own, its
company's, its custom fields, its tags and consent, and other segments' membership.
Registered from contacts' AppConfig.ready(); the other apps register theirs."""

from decimal import Decimal
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import DecimalField, F, IntegerField, Max, OuterRef, Q, Subquery
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce
from django.db.models.lookups import (
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    IsNull,
    LessThan,
    LessThanOrEqual,
)

from contacts import scores
from contacts.models import (
    Company,
    ConsentEvent,
    Contact,
    ContactScore,
    ContactTag,
    Segment,
    SegmentMember,
    Tag,
)
from contacts.segments import rules
from contacts.segments.rules import Field, register, register_provider
from crm.models import Team, TeamMember
from crm.records.custom_fields import definitions
from crm.records.models import CustomField
from crm.selectors import org_users

Kind = CustomField.Kind


def _users() -> list[tuple[str, str]]:
    return [(str(user.pk), user.display_name) for user in org_users()]


def _teams() -> list[tuple[str, str]]:
    return [(str(team.pk), team.name) for team in Team.objects.order_by("name")]


def _tags() -> list[tuple[str, str]]:
    return [(str(tag.pk), tag.name) for tag in Tag.objects.order_by("name")]


def _segments() -> list[tuple[str, str]]:
    alive = Segment.objects.filter(deleted_at__isnull=True).order_by("name", "id")
    return [(str(segment.pk), segment.name) for segment in alive]


def _team_q(op: str, value: Any, params: dict[str, Any]) -> Q:
    members = TeamMember.objects.filter(team_id=int(value)).values("membership__user_id")
    inside = Q(owner_id__in=members)
    return inside if op == "is" else ~inside


def _tag_q(op: str, value: Any, params: dict[str, Any]) -> Q:
    return rules.presence_q(ContactTag.objects.filter(tag_id=int(value)), "contact_id", op)


def _tag_measure(params: dict[str, Any]) -> Any:
    names = ContactTag.objects.filter(contact=OuterRef("pk")).order_by("tag__name")
    return ArraySubquery(names.values("tag__name"))


def _consent_q(op: str, value: Any, params: dict[str, Any]) -> Q:
    granted = Q(**{f"consent__{value}__granted": True})
    return granted if op == "has" else ~granted


def _segment_q(op: str, value: Any, params: dict[str, Any]) -> Q:
    members = SegmentMember.objects.filter(segment_id=int(value))
    return rules.presence_q(members, "contact_id", "has" if op == "in" else "has_not")


def _segment_measure(params: dict[str, Any]) -> Any:
    found = SegmentMember.objects.filter(contact=OuterRef("pk")).order_by("segment__name")
    return ArraySubquery(found.values("segment__name"))


def _choices_of(values: list[str]) -> Any:
    return lambda: [(value, value) for value in values]


_COMPARE = {"eq": Exact, "gt": GreaterThan, "gte": GreaterThanOrEqual, "lt": LessThan,
            "lte": LessThanOrEqual}  # fmt: skip


def _decimal_where(key: str) -> Any:
    """A decimal custom field, kept as text in the JSON ("12.50"): compared as a number."""

    def where(op: str, value: Any, params: dict[str, Any]) -> Q:
        number = Cast(
            KeyTextTransform(key, "custom"), DecimalField(max_digits=30, decimal_places=10)
        )
        if op == "is_empty":
            return Q(IsNull(KeyTextTransform(key, "custom"), True))
        if op == "is_not_empty":
            return Q(IsNull(KeyTextTransform(key, "custom"), False))
        if op == "ne":
            return ~Q(Exact(number, Decimal(str(value)))) | Q(
                IsNull(KeyTextTransform(key, "custom"), True)
            )
        return Q(_COMPARE[op](number, Decimal(str(value))))

    return where


def custom_fields() -> list[Field]:
    """A field per custom field of contacts, keyed "custom.<key>"."""
    made = []
    for custom in definitions("contact"):
        key, label, path = f"custom.{custom.key}", custom.label, f"custom__{custom.key}"
        match custom.kind:
            case Kind.NUMBER:
                made.append(Field(key, label, "Custom fields", "number", path, stored="int"))
            case Kind.DECIMAL:
                made.append(Field(key, label, "Custom fields", "number", path,
                                  where=_decimal_where(custom.key)))  # fmt: skip
            case Kind.DATE:
                made.append(Field(key, label, "Custom fields", "date", path, stored="date"))
            case Kind.BOOLEAN:
                made.append(Field(key, label, "Custom fields", "bool", path))
            case Kind.CHOICE:
                made.append(Field(key, label, "Custom fields", "choice", path,
                                  choices=_choices_of(custom.choices)))  # fmt: skip
            case Kind.MULTI_CHOICE:
                made.append(Field(
                    key, label, "Custom fields", "set", path, choices=_choices_of(custom.choices),
                    where=_includes(custom.key),
                ))  # fmt: skip
            case _:
                made.append(Field(key, label, "Custom fields", "text", path))
    return made


def _includes(key: str) -> Any:
    def where(op: str, value: Any, params: dict[str, Any]) -> Q:
        inside = Q(**{f"custom__{key}__contains": [value]})
        return inside if op == "has" else ~inside

    return where


def _score_q(column: str, *, none_is_zero: bool) -> Any:
    """A condition on one of a contact's scores (contacts.scores): a contact with no row
    has an engagement of 0 and no RFM."""

    def where(op: str, value: Any, params: dict[str, Any]) -> Q:
        return rules.aggregate_q(ContactScore.objects.all(), "contact_id", Max(column), op,
                                 value, none_is_zero=none_is_zero)  # fmt: skip

    return where


def _score_measure(column: str, default: Any) -> Any:
    def measure(params: dict[str, Any]) -> Any:
        found = Subquery(ContactScore.objects.filter(contact=OuterRef("pk")).values(column)[:1])
        return found if default is None else Coalesce(found, default, output_field=IntegerField())

    return measure


def _rfm_q(op: str, value: Any, params: dict[str, Any]) -> Q:
    scored = ContactScore.objects.filter(rfm_segment=value)
    return rules.presence_q(scored, "contact_id", "has" if op == "is" else "has_not")


def register_all() -> None:
    contact, company = "Contact", "Company"
    for made in (
        Field("lifecycle", "Lifecycle stage", contact, "choice", "lifecycle",
              choices=lambda: list(Contact.Lifecycle.choices)),
        Field("owner", "Owner", contact, "choice", "owner_id", choices=_users),
        Field("team", "Owner's team", contact, "choice", choices=_teams, where=_team_q),
        Field("source", "Source", contact, "text", "source"),
        Field("country", "Country (ISO code)", contact, "text", "country"),
        Field("city", "City", contact, "text", "city"),
        Field("job_title", "Job title", contact, "text", "job_title"),
        Field("email", "Email address", contact, "text", "email"),
        Field("created", "Added", contact, "date", "created_at"),
        Field("last_contacted", "Last contacted", contact, "date", "last_interaction_at"),
        Field("tags", "Tags", contact, "set", choices=_tags, where=_tag_q, measure=_tag_measure),
        Field("consent", "Consent", contact, "set",
              choices=lambda: list(ConsentEvent.Purpose.choices), where=_consent_q,
              measure=lambda params: F("consent")),
        Field("company.name", "Company name", company, "text", "company_name"),
        Field("company.industry", "Industry", company, "text", "company__industry"),
        Field("company.size", "Company size", company, "choice", "company__size",
              choices=lambda: list(Company.Size.choices)),
        Field("segment", "Segment", "Segments", "segment", choices=_segments, where=_segment_q,
              measure=_segment_measure),
        Field("scores.engagement", "Engagement (0–100)", "Scores", "amount",
              where=_score_q("engagement", none_is_zero=True),
              measure=_score_measure("engagement", 0), lowest=0),
        Field("scores.rfm", "RFM segment", "Scores", "choice", choices=lambda: scores.RFM_CHOICES,
              where=_rfm_q, measure=_score_measure("rfm_segment", None)),
        Field("scores.recency", "Recency (1–5)", "Scores", "amount",
              where=_score_q("recency", none_is_zero=False),
              measure=_score_measure("recency", None), lowest=1),
        Field("scores.frequency", "Frequency (1–5)", "Scores", "amount",
              where=_score_q("frequency", none_is_zero=False),
              measure=_score_measure("frequency", None), lowest=1),
        Field("scores.monetary", "Monetary value (1–5)", "Scores", "amount",
              where=_score_q("monetary", none_is_zero=False),
              measure=_score_measure("monetary", None), lowest=1),
    ):  # fmt: skip
        register(made)
    register_provider(custom_fields)
