"""Saved views of the contact and company lists: save, rename or share, delete."""

from collections.abc import Sequence
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from contacts import columns as record_columns
from contacts import saved_views
from contacts.forms import SavedViewForm, SavedViewSaveForm
from contacts.models import CustomField, RecordKind, SavedView
from crm.forms import apply_errors
from crm.permissions import can, org_member
from crm.requests import OrgRequest

LIST_URLS = {
    RecordKind.CONTACT: "contacts:list",
    RecordKind.COMPANY: "contacts:companies",
}
# The field ids of the save form differ from the filter form's, which shares its page.
AUTO_ID = "view_%s"


def list_context(request: OrgRequest, entity: str, fields: Sequence[CustomField]) -> dict[str, Any]:
    """What a list page needs for its columns (built-in, or one of the organisation's custom
    `fields`), its column chooser, its Views menu and its Save form."""
    shown = record_columns.chosen(entity, request.GET, fields)
    keys = ",".join(column.key for column in shown)
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("columns", None)
    return {
        "columns": shown,
        "column_choices": record_columns.choices(entity, shown, fields),
        # Read only when the whole page renders: htmx swaps of the results skip the menu.
        "saved_views": saved_views.saved_view_list(request.user, entity),
        "view_state": {"query": query.urlencode(), "columns": keys},
        "save_form": SavedViewSaveForm(auto_id=AUTO_ID, initial={"entity": entity}),
    }


def _list_url(request: OrgRequest, view: SavedView) -> str:
    url = reverse(LIST_URLS[view.entity], args=[request.org.slug])  # type: ignore[index]
    query = saved_views.saved_view_query(view)
    return f"{url}?{query}" if query else url


def _changeable_view(request: OrgRequest, view_id: int) -> SavedView:
    # Someone else's private view is not found; a shared one is seen, but only its owner
    # (or an admin) may change it.
    view = get_object_or_404(saved_views.saved_view_list(request.user), pk=view_id)
    if not saved_views.saved_view_may_change(request.membership, view):
        raise PermissionDenied
    return view


@require_POST
@org_member()
def saved_view_save(request: OrgRequest) -> HttpResponse:
    form = SavedViewSaveForm(request.POST, auto_id=AUTO_ID)
    entity = request.POST.get("entity", "")
    if entity in LIST_URLS and not can(request.membership, f"{entity}.view"):
        raise PermissionDenied
    if form.is_valid():
        data = form.cleaned_data
        try:
            view = saved_views.saved_view_save(
                org=request.org, by=request.user, name=data["name"], shared=data["shared"],
                entity=data["entity"], query=data["query"], columns=[data["columns"]],
            )  # fmt: skip
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"Saved the view “{view}”.")
            url = _list_url(request, view)
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    state = {"query": request.POST.get("query", ""), "columns": request.POST.get("columns", "")}
    context = {"save_form": form, "view_state": state, "entity": entity}
    template = "contacts/saved_view_save.html" + ("#form" if request.htmx else "")
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@org_member()
def saved_view_edit(request: OrgRequest, view_id: int) -> HttpResponse:
    view = _changeable_view(request, view_id)
    initial = {"name": view.name, "shared": view.shared}
    form = SavedViewForm(request.POST or None, initial=initial)
    if form.is_valid():
        try:
            view = saved_views.saved_view_save(
                org=request.org, by=request.user, view=view, **form.cleaned_data
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"Saved the view “{view}”.")
            return redirect(_list_url(request, view))
    return render(request, "contacts/saved_view_edit.html", {"view": view, "form": form})


@require_http_methods(["GET", "POST"])
@org_member()
def saved_view_delete(request: OrgRequest, view_id: int) -> HttpResponse:
    view = _changeable_view(request, view_id)
    if request.method == "POST":
        saved_views.saved_view_delete(org=request.org, view=view, by=request.user)
        messages.success(request, f"Deleted the view “{view}”.")
        return redirect(LIST_URLS[view.entity], request.org.slug)  # type: ignore[index]
    return render(request, "contacts/saved_view_delete.html", {"view": view})
