"""Interactions as a record kind: the list across channels, its filters, columns, saved
views, export and bulk delete, declared once."""

from html import escape
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.safestring import SafeString

from crm.people import person_html
from crm.records import bulk
from crm.records import columns as c
from crm.records.filters import DATE, RecordFilter
from crm.records.registry import Kind
from interactions import attachments, selectors
from interactions.models import Interaction


class InteractionFilter(RecordFilter):
    primary: ClassVar[tuple[str, ...]] = ("channel", "direction", "owner", "sort")

    channel = django_filters.ChoiceFilter(
        choices=Interaction.Channel.choices, empty_label="Any channel"
    )
    direction = django_filters.ChoiceFilter(
        choices=Interaction.Direction.choices, empty_label="Any direction"
    )
    occurred = django_filters.DateFromToRangeFilter(
        field_name="occurred_at", label="When", widget=DATE
    )
    # By id: a contact's or company's page links here ("View all"); a dropdown of every
    # contact would be the organisation's whole address book.
    contact = django_filters.NumberFilter(field_name="contact_id", label="Contact (id)")
    company = django_filters.NumberFilter(field_name="company_id", label="Company (id)")
    sort = django_filters.OrderingFilter(
        fields=(("occurred_at", "name"), ("channel", "channel"), ("subject", "subject"),
                ("created_at", "created")),
        field_labels={"occurred_at": "When"},
        label="Sort by", empty_label="Newest first (default)",
    )  # fmt: skip

    class Meta:
        model = Interaction
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "owner" in self.filters:  # the platform's owner filter, on the author
            self.filters["owner"].label = "Author"
            self.filters["owner"].extra["empty_label"] = "Anyone"


# --- Columns ------------------------------------------------------------------------------


def _when_text(interaction: Interaction) -> str:
    return f"{timezone.localtime(interaction.occurred_at):%-d %b %Y, %H:%M}"


@c.reading("occurred_at", "subject", "channel")
def _when(interaction: Interaction, row: c.Row) -> SafeString:
    url = row.link("interactions:detail", interaction.pk)
    when = timezone.localtime(interaction.occurred_at)
    # Bandit B703: the text is escaped; the URL a reversed path.
    return SafeString(  # nosec B703
        f'<a href="{url}"><time datetime="{when.isoformat()}">{escape(_when_text(interaction))}'
        "</time></a>"
    )


def _when_export(interaction: Interaction, zone: ZoneInfo) -> list[str]:
    return [interaction.occurred_at.astimezone(zone).isoformat(timespec="seconds")]


@c.reading("contact__first_name", "contact__last_name", "contact__email")
def _contact(interaction: Interaction, row: c.Row) -> SafeString | str:
    if interaction.contact is None:
        return ""
    url = row.link("contacts:detail", interaction.contact_id)  # type: ignore[arg-type]
    return SafeString(f'<a href="{url}">{escape(str(interaction.contact))}</a>')  # nosec B703


@c.reading("company__name")
def _company(interaction: Interaction, row: c.Row) -> SafeString | str:
    if interaction.company is None:
        return ""
    url = row.link("contacts:company_detail", interaction.company_id)  # type: ignore[arg-type]
    return SafeString(f'<a href="{url}">{escape(interaction.company.name)}</a>')  # nosec B703


@c.reading("author__first_name", "author__last_name", "author__email")
def _author(interaction: Interaction, row: c.Row) -> SafeString | str:
    return person_html(interaction.author.display_name) if interaction.author else "—"


def _related(name: str) -> c.Export:
    def export(interaction: Interaction, zone: ZoneInfo) -> list[str]:
        found = getattr(interaction, name)
        return [str(found) if found is not None else ""]

    return export


def _author_email(interaction: Interaction, zone: ZoneInfo) -> list[str]:
    return [interaction.author.email if interaction.author else ""]


COLUMNS = [
    c.Column("when", "When", _when, _when_export, sort="name", css="nowrap", width="md"),
    c.Column("channel", "Channel", c.choice("channel"), c.choice_label("channel"),
             sort="channel", width="sm", card="chip"),
    c.Column("direction", "Direction", c.choice("direction"), c.choice_label("direction"),
             width="sm"),
    c.Column("subject", "Subject", c.text("subject"), c.plain("subject"), sort="subject",
             card="fact"),
    c.Column("contact", "Contact", _contact, _related("contact"), card="fact"),
    c.Column("company", "Company", _company, _related("company")),
    c.Column("owner", "Author", _author, _author_email, headers=("Author email",), width="md"),
    c.Column("outcome", "Outcome", c.choice("outcome"), c.choice_label("outcome"), width="sm"),
    c.Column("duration", "Duration (s)", c.text("duration"), c.plain("duration"), css="num",
             width="xs"),
    c.created(),
]  # fmt: skip


def _visible(membership: Any) -> QuerySet[Interaction]:
    return selectors.interaction_list(membership)


INTERACTION = Kind(
    key="interaction",
    model=Interaction,
    noun="interaction",
    nouns="interactions",
    url_prefix="interactions",
    visible=_visible,
    filterset=InteractionFilter,
    columns=COLUMNS,
    default_columns=("when", "channel", "direction", "subject", "contact", "company", "owner"),
    default_order=("-occurred_at", "-id"),
    detail_url="interactions:detail",
    row_reads=("subject", "channel", "occurred_at"),
    empty_text="Log calls, emails, meetings and notes from a contact's or company's page.",
    searchable=True,
    bulk_actions=(bulk.TRASH,),
    # Deleted for good, an interaction takes its attachments' files with it.
    purge=attachments.interactions_purge,
)
