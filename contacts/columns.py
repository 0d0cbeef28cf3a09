"""The columns the contact and company lists can show and export, in one place.

A cell is rendered in Python (format_html escapes every value) rather than by a template
included per cell: a 50-row page of twelve columns would otherwise render 600 templates.
An export writes the same columns as plain text, a column as one or more cells (a
contact's name as first and last name), so that an exported file imports again.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.http import QueryDict
from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from contacts.custom_fields import display, export_cells
from contacts.models import CustomField
from crm.templatetags.crm_tags import phone

DATE_FORMAT = "j M Y"


@dataclass(frozen=True)
class Row:
    """What every cell of a page's rows may need besides its record."""

    org_slug: str
    keys: frozenset[str]  # the columns shown, so that a cell can leave out what another shows
    _links: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def link(self, url_name: str, pk: int) -> str:
        """reverse(url_name, args=[org_slug, pk]), reversed once for all the page's rows."""
        prefix = self._links.get(url_name)
        if prefix is None:
            sample = reverse(url_name, args=[self.org_slug, 0])
            assert sample.endswith("/0/"), f"{url_name} does not end with the record's id"
            prefix = self._links[url_name] = sample.removesuffix("0/")
        return f"{prefix}{pk}/"


Render = Callable[[Any, Row], SafeString | str]
# A record's cells in an export, as plain text, given the organisation's time zone.
Export = Callable[[Any, ZoneInfo], list[str]]


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    render: Render
    export: Export
    headers: tuple[str, ...] = ()  # the export's headings, when they are not just the label
    sort: str = ""  # the FilterSet's ordering key, when the column sorts
    css: str = ""  # a class for its cells

    @property
    def export_headers(self) -> tuple[str, ...]:
        return self.headers or (self.label,)


def _text(field: str) -> Render:
    return lambda record, row: str(getattr(record, field) or "")


def _date(field: str) -> Render:
    return lambda record, row: date_filter(getattr(record, field), DATE_FORMAT) or ""


def _owner(record: Any, row: Row) -> str:
    return record.owner.email if record.owner_id else "—"


def _tags(record: Any, row: Row) -> SafeString:
    # The markup of contacts/_tag.html; tag_links come prefetched with their tags.
    links = record.tag_links.all()
    return format_html_join(
        "",
        '<span class="tag tag--{}">{}</span>',
        ((link.tag.color, link.tag.name) for link in links),
    )


def _plain(field: str) -> Export:
    return lambda record, zone: [str(getattr(record, field) or "")]


def _iso(field: str) -> Export:
    # In the organisation's time zone, with its offset: unambiguous wherever it is opened.
    def export(record: Any, zone: ZoneInfo) -> list[str]:
        value = getattr(record, field)
        return [timezone.localtime(value, zone).isoformat(timespec="seconds") if value else ""]

    return export


def _owner_email(record: Any, zone: ZoneInfo) -> list[str]:
    return [record.owner.email if record.owner_id else ""]


def _tag_names(record: Any, zone: ZoneInfo) -> list[str]:
    # From the prefetched links: sorted here, as an ordered prefetch would be a new query.
    return ["; ".join(sorted(link.tag.name for link in record.tag_links.all()))]


def _contact_name(contact: Any, row: Row) -> SafeString:
    url = row.link("contacts:detail", contact.pk)
    link = format_html('<a href="{}">{}</a>', url, contact.name or contact.email)
    if contact.job_title and "job_title" not in row.keys:
        return format_html('{}<br><span class="muted">{}</span>', link, contact.job_title)
    return link


def _email(contact: Any, row: Row) -> SafeString | str:
    if not contact.email:
        return ""
    return format_html('<a href="mailto:{}">{}</a>', contact.email, contact.email)


def _stage(contact: Any, row: Row) -> SafeString:
    return format_html(
        '<span class="badge badge--neutral">{}</span>', contact.get_lifecycle_display()
    )


def _company_name(company: Any, row: Row) -> SafeString:
    url = row.link("contacts:company_detail", company.pk)
    return format_html('<a href="{}">{}</a>', url, company.name)


def _domain(company: Any, row: Row) -> SafeString | str:
    if not company.domain:
        return ""
    return format_html(
        '<a href="https://{}" rel="noopener noreferrer">{}</a>', company.domain, company.domain
    )


CONTACT_COLUMNS: dict[str, Column] = {
    c.key: c
    for c in [
        # First and last name apart, as an import reads them.
        Column("name", "Name", _contact_name, lambda c, zone: [c.first_name, c.last_name],
               headers=("First name", "Last name"), sort="name"),
        Column("email", "Email", _email, _plain("email"), sort="email"),
        Column("phone", "Phone", lambda c, row: phone(c.phone), _plain("phone"), css="nowrap"),
        Column("company", "Company", _text("company_name"), _plain("company_name"),
               sort="company"),
        Column("stage", "Stage", _stage, lambda c, zone: [c.get_lifecycle_display()],
               sort="lifecycle"),
        Column("owner", "Owner", _owner, _owner_email, headers=("Owner email",)),
        Column("tags", "Tags", _tags, _tag_names),
        Column("created", "Created", _date("created_at"), _iso("created_at"), sort="created",
               css="nowrap"),
        Column("job_title", "Job title", _text("job_title"), _plain("job_title")),
        Column("source", "Source", _text("source"), _plain("source")),
        Column("country", "Country", _text("country"), _plain("country")),
        Column("city", "City", _text("city"), _plain("city")),
        Column(
            "last_interaction", "Last interaction", _date("last_interaction_at"),
            _iso("last_interaction_at"), sort="last_interaction", css="nowrap",
        ),
    ]
}  # fmt: skip
CONTACT_DEFAULT = ("name", "email", "phone", "company", "stage", "owner", "tags", "created")

COMPANY_COLUMNS: dict[str, Column] = {
    c.key: c
    for c in [
        Column("name", "Name", _company_name, _plain("name"), sort="name"),
        Column("domain", "Domain", _domain, _plain("domain"), sort="domain"),
        Column("industry", "Industry", _text("industry"), _plain("industry"), sort="industry"),
        Column("size", "Size", lambda c, row: c.get_size_display(),
               lambda c, zone: [c.get_size_display()], css="nowrap"),
        Column("owner", "Owner", _owner, _owner_email, headers=("Owner email",)),
        Column("country", "Country", _text("country"), _plain("country")),
        Column("tags", "Tags", _tags, _tag_names),
        Column("created", "Created", _date("created_at"), _iso("created_at"), sort="created",
               css="nowrap"),
    ]
}  # fmt: skip
COMPANY_DEFAULT = ("name", "domain", "industry", "size", "owner", "tags", "created")

# RecordKind -> (the columns, the default choice)
ENTITIES: dict[str, tuple[dict[str, Column], tuple[str, ...]]] = {
    "contact": (CONTACT_COLUMNS, CONTACT_DEFAULT),
    "company": (COMPANY_COLUMNS, COMPANY_DEFAULT),
}


def custom_column(field: CustomField) -> Column:
    """A custom field as a column: its value as the record page shows it, exported as stored
    (dates ISO, yes/no, several choices joined with "; ")."""
    return Column(
        f"custom_{field.key}",
        field.label,
        lambda record, row: display(field, record.custom.get(field.key)),
        lambda record, zone: export_cells([field], record),
    )


def available(entity: str, fields: Iterable[CustomField]) -> dict[str, Column]:
    """Every column of an entity's list: the built-in ones, then one per custom field."""
    built_in, _ = ENTITIES[entity]
    return {**built_in, **{f"custom_{field.key}": custom_column(field) for field in fields}}


def chosen_keys(
    entity: str, values: Iterable[str] | None, fields: Iterable[CustomField]
) -> list[str]:
    """The column keys asked for, as `?columns=a,b` or `?columns=a&columns=b`: unknown keys
    dropped, each once, the name first. Nothing asked for means the default columns."""
    columns, (_, defaults) = available(entity, fields), ENTITIES[entity]
    values = list(values or [])
    if not values:
        return list(defaults)
    keys = ["name"]
    for value in values:
        for key in value.split(","):
            if (key := key.strip()) in columns and key not in keys:
                keys.append(key)
    return keys


def chosen(entity: str, query: QueryDict, fields: Sequence[CustomField]) -> list[Column]:
    """The columns a list's query string asks for, among the built-in and custom ones."""
    columns = available(entity, fields)
    return [columns[key] for key in chosen_keys(entity, query.getlist("columns"), fields)]


def choices(
    entity: str, shown: Sequence[Column], fields: Iterable[CustomField]
) -> list[dict[str, Any]]:
    """Every column of an entity, custom fields included, for the chooser's checkboxes."""
    keys = {column.key for column in shown}
    return [
        {"key": c.key, "label": c.label, "checked": c.key in keys, "locked": c.key == "name"}
        for c in available(entity, fields).values()
    ]


def default(entity: str) -> list[Column]:
    """The columns a list shows when none are chosen."""
    columns, keys = ENTITIES[entity]
    return [columns[key] for key in keys]


def cells(record: Any, columns: Sequence[Column], org_slug: str) -> SafeString:
    """The <td> cells of one row."""
    row = Row(org_slug, frozenset(column.key for column in columns))
    return mark_safe(_cells(record, columns, row))  # noqa: S308 - escaped in _cells


def rows(
    records: Iterable[Any], columns: Sequence[Column], org_slug: str, *, selectable: bool
) -> SafeString:
    """A page's <tr>s, each with a checkbox for bulk actions first when `selectable`."""
    row = Row(org_slug, frozenset(column.key for column in columns))
    parts = []
    for record in records:
        check = format_html(
            '<td class="col-check"><input type="checkbox" name="ids" value="{0}" '
            'id="select-{0}"><label class="visually-hidden" for="select-{0}">Select {1}'
            "</label></td>",
            record.pk, record,
        ) if selectable else ""  # fmt: skip
        parts.append(f"<tr>{check}{_cells(record, columns, row)}</tr>")
    return mark_safe("".join(parts))  # noqa: S308 - format_html, and escaped in _cells


def _cells(record: Any, columns: Sequence[Column], row: Row) -> str:
    # Each cell's content escaped unless already safe, as format_html would, for less: a
    # page of 50 rows and twelve columns makes 600 cells.
    parts = []
    for column in columns:
        content = conditional_escape(column.render(record, row))
        opening = f'<td class="{column.css}">' if column.css else "<td>"
        parts.append(f"{opening}{content}</td>")
    return "".join(parts)
