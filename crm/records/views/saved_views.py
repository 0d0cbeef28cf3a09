"""Saved views of a list: save, rename or share, delete."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from crm.forms import apply_errors
from crm.params import text_param
from crm.permissions import can
from crm.records import saved_views
from crm.records.forms import SavedViewForm, SavedViewSaveForm
from crm.records.models import SavedView
from crm.records.registry import Kind
from crm.records.views import for_kind
from crm.requests import OrgRequest

# The field ids of the save form differ from the filter form's, which shares its page.
AUTO_ID = "view_%s"


def _list_url(request: OrgRequest, kind: Kind, view: SavedView) -> str:
    url = kind.url("list", request.org.slug)
    query = saved_views.saved_view_query(view)
    return f"{url}?{query}" if query else url


def _changeable_view(request: OrgRequest, kind: Kind, view_id: int) -> SavedView:
    # Someone else's private view is not found; a shared one is seen, but only its owner
    # (or an admin) may change it.
    views = saved_views.saved_view_list(request.user, kind.key)
    view = get_object_or_404(views, pk=view_id)
    if not saved_views.saved_view_may_change(request.membership, view):
        raise PermissionDenied
    return view


@require_POST
@for_kind("view")
def saved_view_save(request: OrgRequest, kind: Kind) -> HttpResponse:
    may_share = can(request.membership, "saved_view.share")
    form = SavedViewSaveForm(request.POST, auto_id=AUTO_ID, may_share=may_share)
    if form.is_valid():
        data = form.cleaned_data
        try:
            view = saved_views.saved_view_save(
                org=request.org, by=request.user, name=data["name"],
                shared=data.get("shared", False),
                record_kind=kind.key, query=data["query"], columns=[data["columns"]],
            )  # fmt: skip
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"Saved the view “{view}”.")
            url = _list_url(request, kind, view)
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    state = {name: text_param(request.POST, name) for name in ("query", "columns")}
    context = {"save_form": form, "view_state": state, "kind": kind}
    template = "records/saved_view_save.html" + ("#form" if request.htmx else "")
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@for_kind("view")
def saved_view_edit(request: OrgRequest, kind: Kind, view_id: int) -> HttpResponse:
    view = _changeable_view(request, kind, view_id)
    initial = {"name": view.name, "shared": view.shared}
    may_share = can(request.membership, "saved_view.share")
    form = SavedViewForm(request.POST or None, initial=initial, may_share=may_share)
    if form.is_valid():
        try:
            view = saved_views.saved_view_save(
                org=request.org, by=request.user, view=view, name=form.cleaned_data["name"],
                shared=form.cleaned_data.get("shared", view.shared and may_share),
            )  # fmt: skip
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"Saved the view “{view}”.")
            return redirect(_list_url(request, kind, view))
    context = {"view": view, "kind": kind, "form": form, "list_url": _list_url(request, kind, view)}
    return render(request, "records/saved_view_edit.html", context)


@require_http_methods(["GET", "POST"])
@for_kind("view")
def saved_view_delete(request: OrgRequest, kind: Kind, view_id: int) -> HttpResponse:
    view = _changeable_view(request, kind, view_id)
    if request.method == "POST":
        saved_views.saved_view_delete(org=request.org, view=view, by=request.user)
        messages.success(request, f"Deleted the view “{view}”.")
        return redirect(kind.url("list", request.org.slug))
    context = {"view": view, "kind": kind, "list_url": _list_url(request, kind, view)}
    return render(request, "records/saved_view_delete.html", context)
