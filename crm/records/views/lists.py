"""A kind's list: filters, search, sorting, bounded paging, columns, saved views, and the bulk
toolbar for those who may edit."""

from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from crm.permissions import can
from crm.records import bulk
from crm.records import columns as record_columns
from crm.records.filters import RecordFilter, list_page
from crm.records.forms import SavedViewSaveForm
from crm.records.registry import Kind
from crm.records.saved_views import saved_view_list
from crm.records.views import for_kind
from crm.records.views.saved_views import AUTO_ID
from crm.requests import OrgRequest


@require_GET
@for_kind("view")
def record_list(request: OrgRequest, kind: Kind) -> HttpResponse:
    shown: list[record_columns.Column] = []

    def columns(filters: RecordFilter) -> list[record_columns.Column]:
        # Declared, or one of the organisation's custom fields, which the filters read.
        shown.extend(
            record_columns.chosen(
                kind, request.GET, filters.custom_fields, membership=request.membership
            )
        )
        return shown

    filters, page = list_page(kind, request.membership, request.GET, columns=columns)
    can_edit = can(request.membership, kind.action("edit"))
    context = {
        "kind": kind,
        "filter": filters,
        "page": page,
        "can_edit": can_edit,
        "bulk": bulk.bulk_choices(kind, request.membership, filters.owners()) if can_edit else None,
        **_list_context(request, kind, shown, filters.custom_fields),
    }
    template = "records/list.html" + ("#results" if request.htmx else "")
    return render(request, template, context)


def _list_context(
    request: OrgRequest, kind: Kind, shown: list[record_columns.Column], fields: Any
) -> dict[str, Any]:
    """What a list page needs for its columns, its column chooser (among the declared ones
    and the organisation's custom `fields`), its Views menu and its Save form."""
    keys = ",".join(column.key for column in shown)
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("columns", None)
    slug = request.org.slug
    return {
        "columns": shown,
        "column_choices": record_columns.choices(kind, shown, fields, request.membership),
        # Read only when the whole page renders: htmx swaps of the results skip the menu.
        "saved_views": saved_view_list(request.user, kind.key),
        "view_state": {"query": query.urlencode(), "columns": keys},
        "save_form": SavedViewSaveForm(
            auto_id=AUTO_ID, may_share=can(request.membership, "saved_view.share")
        ),
        "list_url": kind.url("list", slug),
        "export_url": kind.url("export", slug),
        "bulk_url": kind.url("bulk", slug),
    }
