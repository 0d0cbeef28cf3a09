"""Template helpers for the pages every record kind shares."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from crm.permissions import can
from crm.records import columns as record_columns
from crm.records import registry
from crm.records.custom_fields import definitions, display
from crm.records.models import SavedView
from crm.records.registry import Kind
from crm.records.saved_views import saved_view_query

register = template.Library()


@register.simple_tag(takes_context=True)
def kind_url(context: template.Context, kind: Kind, name: str, *args: Any) -> str:
    """{% kind_url kind "import" %}: one of the kind's shared pages in this organisation."""
    return kind.url(name, context["org"].slug, *args)


@register.simple_tag
def count_noun(kind: Kind, count: int) -> str:
    """{% count_noun kind page.count %}: "contact" for 1, "contacts" otherwise."""
    return kind.noun_for(count)


@register.simple_tag(takes_context=True)
def cells(
    context: template.Context, record: Any,
    columns: Sequence[record_columns.Column] | None = None, kind: Kind | None = None,
) -> SafeString:  # fmt: skip
    """{% cells contact columns %}: one row's <td>s; the kind's default columns if none."""
    if not columns:
        assert kind is not None, "give the columns or the kind"
        columns = record_columns.default(kind)
    return record_columns.cells(record, columns, context["org"].slug)


@register.simple_tag(takes_context=True)
def rows(
    context: template.Context, records: Iterable[Any],
    columns: Sequence[record_columns.Column], selectable: Any = False,
) -> SafeString:  # fmt: skip
    """{% rows page columns selectable=bulk %}: a page's <tr>s, rendered in one go."""
    return record_columns.rows(records, columns, context["org"].slug, selectable=bool(selectable))


@register.filter
def view_query(view: SavedView) -> str:
    """{{ view|view_query }}: the list's query string that the saved view restores."""
    return saved_view_query(view)


@dataclass(frozen=True)
class CustomFact:
    label: str
    kind: str
    text: str  # as people read it; "" when not given


@register.simple_tag
def custom_facts(record: Any) -> list[CustomFact]:
    """The record's custom values for its page, one per current definition (a deleted
    definition's value stays stored but is not shown)."""
    kind = registry.for_model(type(record))
    return [
        CustomFact(field.label, field.kind, display(field, record.custom.get(field.key)))
        for field in definitions(kind.key)
    ]


@register.simple_tag(takes_context=True)
def kind_can(context: template.Context, kind: Kind, verb: str) -> bool:
    """{% kind_can kind "merge" as can_merge %}: may this member do it to the kind's records?
    (A button hidden is not a check: the view checks again.)"""
    return can(context.get("membership"), kind.action(verb))


@register.simple_tag
def record_line(kind: Kind, record: Any) -> str:
    """{% record_line kind record %}: what lists of duplicates show under a record's name."""
    return kind.duplicates.describe(record) if kind.duplicates else ""


@register.simple_tag(takes_context=True)
def header_cells(
    context: template.Context, columns: Sequence[record_columns.Column], selectable: Any = False
) -> SafeString:
    """{% header_cells columns selectable=bulk %}: a list's <th>s, a sortable one as a link
    that sorts by it (and the other way when it already does), with aria-sort on the
    column the list is sorted by."""
    request = context["request"]
    current = request.GET.get("sort", "")  # only compared with the columns' keys
    query = request.GET.copy()
    query.pop("page", None)
    parts = (
        ['<th scope="col" class="col-check"><input type="checkbox" data-select-page '
         'aria-label="Select every row on this page" hidden></th>']
        if selectable else []
    )  # fmt: skip
    for column in columns:
        label = escape(column.label)
        width = f' class="col-w-{escape(column.width)}"' if column.width else ""
        if not column.sort:
            parts.append(f'<th scope="col"{width}>{label}</th>')
            continue
        ascending, descending = current == column.sort, current == f"-{column.sort}"
        query["sort"] = f"-{column.sort}" if ascending else column.sort
        url = escape(f"?{query.urlencode()}")
        sorted_as = ' aria-sort="ascending"' if ascending else (
            ' aria-sort="descending"' if descending else ""
        )  # fmt: skip
        arrow = " ↑" if ascending else (" ↓" if descending else "")
        parts.append(
            f'<th scope="col"{width}{sorted_as}><a href="{url}" hx-get="{url}" '
            f'hx-target="#results" hx-swap="outerHTML" hx-push-url="true">{label}{arrow}</a></th>'
        )
    return mark_safe("".join(parts))  # noqa: S308  # nosec B308, B703  # every value escaped


@register.simple_tag
def column_checkboxes(choices: Sequence[dict[str, Any]]) -> SafeString:
    """{% column_checkboxes column_choices %}: the column chooser's checkboxes, the first
    column always on (as a hidden field beside a disabled box)."""
    parts = []
    for column in choices:
        key, label = escape(column["key"]), escape(column["label"])
        if column["locked"]:
            box = (
                f'<input type="hidden" name="columns" value="{key}">'
                f'<input type="checkbox" id="column-{key}" checked disabled>'
            )
        else:
            checked = " checked" if column["checked"] else ""
            box = f'<input type="checkbox" name="columns" value="{key}" id="column-{key}"{checked}>'
        parts.append(
            f'<div class="field field--check">{box}'
            f'<label class="field__label" for="column-{key}">{label}</label></div>'
        )
    return mark_safe("".join(parts))  # noqa: S308  # nosec B308, B703  # every value escaped


@register.simple_tag
def options(choices: Iterable[tuple[Any, Any]], empty: str = "—") -> SafeString:
    """{% options field.choices %}: a select's <option>s, the empty one first."""
    found = [f'<option value="">{escape(empty)}</option>'] if empty is not None else []
    found += [f'<option value="{escape(v)}">{escape(label)}</option>' for v, label in choices]
    return mark_safe("".join(found))  # noqa: S308  # nosec B308, B703  # every value escaped


@register.simple_tag(takes_context=True)
def record_cards(context: template.Context, kind_key: str, record: Any) -> SafeString:
    """{% record_cards "contact" contact %}: the cards other apps add to a record's page
    (crm.contributions.register_record_card), each with `card` and the page's context."""
    from crm import contributions

    request = context["request"]
    parts = []
    for found in contributions.record_cards(kind_key):
        card = found.data(request, record)
        if card is not None:
            page = context.template.engine.get_template(found.template)  # type: ignore[union-attr]
            with context.push(card=card, record=record):
                parts.append(page.render(context))
    # Bandit B308, B703: templates rendered with autoescaping, as an include would.
    return mark_safe("".join(parts))  # noqa: S308  # nosec B308, B703
