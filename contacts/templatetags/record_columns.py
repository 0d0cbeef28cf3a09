"""The cells of the contact and company lists, and links to saved views."""

from collections.abc import Iterable, Sequence
from typing import Any

from django import template
from django.utils.safestring import SafeString

from contacts import columns as record_columns
from contacts.models import SavedView
from contacts.saved_views import saved_view_query

register = template.Library()


@register.simple_tag(takes_context=True)
def cells(
    context: template.Context, record: Any, columns: Sequence[record_columns.Column] | None = None
) -> SafeString:
    """{% cells contact columns %}: one row's <td>s; the entity's default columns if none."""
    if not columns:
        columns = record_columns.default(record._meta.model_name)
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
