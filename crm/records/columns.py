"""The columns a list can show and export: each kind declares its own, custom fields add more.

A cell is rendered in Python rather than by a template included per cell: a 50-row page of
twelve columns would otherwise render 600 templates. The cells here escape with the
standard library's html.escape, which is what Django's escape() does without its lazy-text
wrapper; a renderer returns text (escaped when the row is written) or SafeString.
An export writes the same columns as plain text, a column as one or more cells (a
contact's name as first and last name), so that an exported file imports again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING, Any, NamedTuple
from zoneinfo import ZoneInfo

from django.http import QueryDict
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from crm.links import record_url
from crm.people import person_html
from crm.records.custom_fields import display, export_cells
from crm.records.models import CustomField

if TYPE_CHECKING:
    from crm.records.registry import Kind


@dataclass(frozen=True)
class Row:
    """What every cell of a page's rows may need besides its record."""

    org_slug: str
    keys: frozenset[str]  # the columns shown, so that a cell can leave out what another shows

    def link(self, url_name: str, pk: int) -> str:
        """reverse(url_name, args=[org_slug, pk]), reversed once for all the page's rows."""
        return record_url(url_name, self.org_slug, pk)


class Chip(NamedTuple):
    """A tag as a row shows it (crm.records.columns.prepare reads a page's at once)."""

    name: str
    color: str


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
    # How wide its column is on a 1280 px screen ("xs", "sm", "md", "lg"; "" shares what is
    # left), and what it is on a row's card at 390 px: "fact" (a line under the name),
    # "chip" (beside it) or "" (not on the card). The first column is the card's title.
    width: str = ""
    card: str = ""
    # The fields its cell reads ("owner__email" through a relation), so that a page loads
    # only those of the columns it shows; None (unknown) loads every field. The cells below
    # say theirs.
    reads: tuple[str, ...] | None = None
    # The permission a member needs to see it at all, in the list, the chooser and exports
    # ("deal.view_value": what deals are worth); "" for everyone who sees the list.
    action: str = ""

    def __post_init__(self) -> None:
        if self.reads is None:
            object.__setattr__(self, "reads", getattr(self.render, "reads", None))

    @property
    def export_headers(self) -> tuple[str, ...]:
        return self.headers or (self.label,)


def reading(*fields: str) -> Callable[[Render], Render]:
    """Decorator: the fields a cell renderer reads (see Column.reads)."""

    def mark(render: Render) -> Render:
        render.reads = fields  # type: ignore[attr-defined]
        return render

    return mark


def fields_read(kind: Kind, columns: Sequence[Column]) -> list[str] | None:
    """What a page of these columns loads of each row: what the kind's rows always need and
    what each column reads; None when the kind or a column does not say (then every field)."""
    if kind.row_reads is None or any(column.reads is None for column in columns):
        return None
    found = dict.fromkeys(kind.row_reads)
    for column in columns:
        found.update(dict.fromkeys(column.reads or ()))
    return list(found)


# --- Cells, for the kinds' declarations ---------------------------------------------------


def text(name: str) -> Render:
    return reading(name)(lambda record, row: str(getattr(record, name) or ""))


def short_date(value: Any) -> str:
    """A date, or a time's date in the organisation's time zone: "7 Mar 2026"."""
    if not value:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value)
    return f"{value.day} {value.strftime('%b %Y')}"


def day(name: str) -> Render:
    return reading(name)(lambda record, row: short_date(getattr(record, name)))


def _labels(model: type[Any], name: str) -> dict[Any, str]:
    return {value: str(label) for value, label in model._meta.get_field(name).flatchoices}


def choice(name: str) -> Render:
    """A choice field as its label (the labels read once: get_FOO_display() builds its
    table again on every call)."""
    labels: dict[type[Any], dict[Any, str]] = {}

    def render(record: Any, row: Row) -> str:
        model = type(record)
        found = labels.get(model) or labels.setdefault(model, _labels(model, name))
        value = getattr(record, name)
        return found.get(value, str(value or ""))

    return reading(name)(render)


def link(name: str, url_name: str) -> Render:
    """The record's `name` as a link to its page."""
    return reading(name)(
        lambda record, row: SafeString(  # nosec B703  # the name escaped; the URL a reversed path
            f'<a href="{row.link(url_name, record.pk)}">{escape(str(getattr(record, name)))}</a>'
        )
    )


# The name, not the address (export keeps that); the email read for a nameless owner's name.
@reading("owner__first_name", "owner__last_name", "owner__email")
def owner(record: Any, row: Row) -> SafeString | str:
    return person_html(record.owner.display_name) if record.owner_id else "—"


@reading()  # the tags prepare() read
def tags(record: Any, row: Row) -> SafeString:
    # The markup of components/_tag.html, from the tags prepare() read for the page.
    return SafeString("".join(  # nosec B703  # every tag's colour and name escaped
        f'<span class="tag tag--{escape(t.color)}">{escape(t.name)}</span>'
        for t in record.tag_list
    ))  # fmt: skip


# --- Cells in an export --------------------------------------------------------------------


def plain(name: str) -> Export:
    return lambda record, zone: [str(getattr(record, name) or "")]


def choice_label(name: str) -> Export:
    label = choice(name)
    return lambda record, zone: [str(label(record, None))]  # type: ignore[arg-type]


def iso(name: str) -> Export:
    # In the organisation's time zone, with its offset: unambiguous wherever it is opened.
    def export(record: Any, zone: ZoneInfo) -> list[str]:
        value = getattr(record, name)
        return [timezone.localtime(value, zone).isoformat(timespec="seconds") if value else ""]

    return export


def owner_email(record: Any, zone: ZoneInfo) -> list[str]:
    return [record.owner.email if record.owner_id else ""]


def tag_names(record: Any, zone: ZoneInfo) -> list[str]:
    return ["; ".join(tag.name for tag in record.tag_list)]


OWNER = Column("owner", "Owner", owner, owner_email, headers=("Owner email",), width="md")
TAGS = Column("tags", "Tags", tags, tag_names)


def created(name: str = "created_at") -> Column:
    return Column(
        "created", "Created", day(name), iso(name), sort="created", css="nowrap", width="sm"
    )


def prepare(kind: Kind, records: Sequence[Any]) -> Sequence[Any]:
    """Read what the rows of a page (or a chunk of an export) show besides their own fields,
    for all of them at once: their tags, in name order, as `record.tag_list` (Chips). One query,
    where Django's prefetch would make a queryset per record."""
    if kind.tags is None or not records:
        return records
    found: dict[int, list[Any]] = {record.pk: [] for record in records}
    column = kind.tags.column
    links: Any = kind.tags.link._default_manager.filter(**{f"{column}__in": list(found)})
    # Names and colours only: a page's tags as models would be two instances per link.
    for record_id, name, color in links.order_by("tag__name", "tag_id").values_list(
        column, "tag__name", "tag__color"
    ):
        found[record_id].append(Chip(name, color))
    for record in records:
        record.tag_list = found[record.pk]
    return records


# --- A list's columns ----------------------------------------------------------------------


def custom_column(custom: CustomField) -> Column:
    """A custom field as a column: its value as the record page shows it, exported as stored
    (dates ISO, yes/no, several choices joined with "; ")."""
    return Column(
        f"custom_{custom.key}",
        custom.label,
        lambda record, row: display(custom, record.custom.get(custom.key)),
        lambda record, zone: export_cells([custom], record),
        reads=("custom",),
    )


def available(
    kind: Kind, fields: Iterable[CustomField], membership: Any = None
) -> dict[str, Column]:
    """Every column of a kind's list: the declared ones, then one per custom field; with a
    `membership`, only those it may see."""
    from crm.permissions import can  # the roles' table is read when a page asks

    return {
        **{column.key: column for column in kind.columns
           if not column.action or membership is None or can(membership, column.action)},
        **{f"custom_{custom.key}": custom_column(custom) for custom in fields},
    }  # fmt: skip


def _first(kind: Kind) -> str:
    """The column that always shows: the record's name, which links to its page."""
    return kind.columns[0].key


def chosen_keys(
    kind: Kind, values: Iterable[str] | None, fields: Iterable[CustomField],
    default: Sequence[str] = (), membership: Any = None,
) -> list[str]:  # fmt: skip
    """The column keys asked for, as `?columns=a,b` or `?columns=a&columns=b`: unknown keys
    (and those the member may not see) dropped, each once, the name first. Nothing asked
    for means `default`, or the kind's default columns."""
    columns = available(kind, fields, membership)
    values = list(values or [])
    if not values:
        return [key for key in (default or kind.default_columns) if key in columns]
    keys = [_first(kind)]
    for value in values:
        for key in value.split(","):
            if (key := key.strip()) in columns and key not in keys:
                keys.append(key)
    return keys


def chosen(
    kind: Kind, query: QueryDict, fields: Sequence[CustomField], default: Sequence[str] = (),
    membership: Any = None,
) -> list[Column]:  # fmt: skip
    """The columns a list's query string asks for, among the declared and custom ones (and,
    with a `membership`, among those it may see)."""
    columns = available(kind, fields, membership)
    keys = chosen_keys(kind, query.getlist("columns"), fields, default, membership)
    return [columns[key] for key in keys]


def choices(
    kind: Kind, shown: Sequence[Column], fields: Iterable[CustomField], membership: Any = None
) -> list[dict[str, Any]]:
    """Every column of a kind the member may see, custom fields included, for the chooser's
    checkboxes."""
    keys = {column.key for column in shown}
    first = _first(kind)
    return [
        {"key": c.key, "label": c.label, "checked": c.key in keys, "locked": c.key == first}
        for c in available(kind, fields, membership).values()
    ]


def default(kind: Kind) -> list[Column]:
    """The columns a list shows when none are chosen."""
    columns = available(kind, [])
    return [columns[key] for key in kind.default_columns]


def cells(record: Any, columns: Sequence[Column], org_slug: str) -> SafeString:
    """The <td> cells of one row."""
    row = Row(org_slug, frozenset(column.key for column in columns))
    return mark_safe(_cells(record, columns, row))  # noqa: S308  # nosec B308, B703  # see _cells


def rows(
    records: Iterable[Any], columns: Sequence[Column], org_slug: str, *, selectable: bool
) -> SafeString:
    """A page's <tr>s, each with a checkbox for bulk actions first when `selectable`."""
    row = Row(org_slug, frozenset(column.key for column in columns))
    parts = []
    for record in records:
        check = (
            f'<td class="col-check"><input type="checkbox" name="ids" value="{record.pk}" '
            f'id="select-{record.pk}"><label class="visually-hidden" for="select-{record.pk}">'
            f"Select {escape(str(record))}</label></td>"
        ) if selectable else ""  # fmt: skip
        parts.append(f'<tr data-row="{record.pk}">{check}{_cells(record, columns, row)}</tr>')
    # Bandit B308, B703: every value is escaped, here and in _cells.
    return mark_safe("".join(parts))  # noqa: S308  # nosec B308, B703


def _cells(record: Any, columns: Sequence[Column], row: Row) -> str:
    # Each cell's content escaped unless already safe, as conditional_escape would, for less:
    # a page of 50 rows and twelve columns makes 600 cells.
    # Plain text keeps its whole value in a title: the table truncates long cells.
    parts = []
    for index, column in enumerate(columns):
        content = column.render(record, row)
        title = ""
        if not isinstance(content, SafeString):
            content = escape(str(content))
            title = f' title="{content}"' if content else ""
        css = _cell_css(column, index)
        opening = f'<td class="{css}"{title}>' if css else f"<td{title}>"
        parts.append(f"{opening}{content}</td>")
    return "".join(parts)


def _cell_css(column: Column, index: int) -> str:
    card = "col-title" if index == 0 else (f"col-{column.card}" if column.card else "")
    return f"{column.css} {card}".strip()
