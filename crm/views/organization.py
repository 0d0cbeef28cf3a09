"""An organisation's home and its settings: profile, security, record visibility, audit log."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from crm import contributions, services
from crm.filters import AuditEventFilter
from crm.forms import (
    OrganizationForm,
    PermissionsForm,
    SecurityForm,
    VisibilityForm,
    apply_errors,
)
from crm.params import text_param
from crm.permissions import can, org_member
from crm.records import registry
from crm.requests import OrgRequest
from crm.selectors import object_history

AUDIT_PAGE_SIZE = 50


@require_GET
@org_member()
def org_home(request: OrgRequest) -> HttpResponse:
    if request.session.get("last_org") != request.org.slug:  # a write only when it changes
        request.session["last_org"] = request.org.slug
    sections = [_home_section(request, kind) for kind in registry.kinds()
                if can(request.membership, kind.action("view"))]  # fmt: skip
    # The apps' panels (My day: tasks and recent interactions), each only if it has data.
    panels = [(panel.template, data) for panel in contributions.home_panels()
              if (data := panel.data(request)) is not None]  # fmt: skip
    context = {"sections": sections, "panels": panels,
               "empty": not any(s["count"] for s in sections)}  # fmt: skip
    return render(request, "crm/org_home.html", context)


# Home counts a kind's records up to this many: past it, "over 10,000" says enough.
HOME_COUNT_CAP = 10_000
# And lists the few it changed last, for a way back to what was being worked on.
HOME_RECENT = 4


def _home_section(request: OrgRequest, kind: registry.Kind) -> dict[str, Any]:
    """A kind's card on the home page: how many records the member sees, the ones changed
    last, and the ways in."""
    slug, membership = request.org.slug, request.membership
    count = kind.visible(membership).order_by()[: HOME_COUNT_CAP + 1].count()
    recent = []
    if count and any(field.name == "updated_at" for field in kind.model._meta.get_fields()):
        rows = kind.visible(membership).order_by("-updated_at", "-id")[:HOME_RECENT]
        recent = [(row, reverse(kind.detail_url, args=[slug, row.pk])) for row in rows]
    may_add = bool(kind.new_url) and can(membership, kind.action("edit"))
    may_import = kind.imports is not None and can(membership, "import.run")
    return {
        "kind": kind,
        "count": min(count, HOME_COUNT_CAP),
        "recent": recent,  # (record, its page), the latest changed first
        "capped": count > HOME_COUNT_CAP,
        "list_url": kind.url("list", slug),
        "new_url": reverse(kind.new_url, args=[slug]) if may_add else "",
        "import_url": kind.url("import", slug) if may_import else "",
    }


@require_http_methods(["GET", "POST"])
@org_member("org.manage")
def org_profile(request: OrgRequest) -> HttpResponse:
    org = request.org
    initial = {f: getattr(org, f) for f in OrganizationForm.base_fields}
    form = OrganizationForm(request.POST or None, initial=initial)
    if form.is_valid():
        try:
            org = services.org_update(org=org, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Saved the organisation's profile.")
            return redirect("crm:profile", org.slug)
    context = {"form": form, "history": object_history(org), "section": "profile"}
    return render(request, "crm/settings/profile.html", context)


@require_http_methods(["GET", "POST"])
@org_member("org.manage")
def org_security(request: OrgRequest) -> HttpResponse:
    form = SecurityForm(request.POST or None, initial={"require_mfa": request.org.require_mfa})
    if form.is_valid():
        try:
            services.org_set_security(org=request.org, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            state = "now required" if form.cleaned_data["require_mfa"] else "no longer required"
            messages.success(request, f"Two-factor authentication is {state}.")
            return redirect("crm:security", request.org.slug)
    return render(request, "crm/settings/security.html", {"form": form, "section": "security"})


@require_http_methods(["GET", "POST"])
@org_member("org.manage")
def org_visibility(request: OrgRequest) -> HttpResponse:
    form = VisibilityForm(request.POST or None, org=request.org)
    if form.is_valid():
        try:
            services.org_set_visibility(
                org=request.org, by=request.user, visibility=form.cleaned_data
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Saved who sees which records.")
            return redirect("crm:visibility", request.org.slug)
    return render(request, "crm/settings/visibility.html", {"form": form, "section": "visibility"})


@require_http_methods(["GET", "POST"])
@org_member("org.manage")
def org_permissions(request: OrgRequest) -> HttpResponse:
    form = PermissionsForm(request.POST or None, org=request.org)
    if form.is_valid():
        try:
            services.org_set_permissions(
                org=request.org, by=request.user, permissions=form.chosen()
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Saved who may do what takes much away at once.")
            return redirect("crm:permissions", request.org.slug)
    context = {"form": form, "section": "permissions"}
    return render(request, "crm/settings/permissions.html", context)


@require_GET
@org_member("audit.view")
def audit_log(request: OrgRequest) -> HttpResponse:
    events = AuditEventFilter(request.GET or None, queryset=None)
    # A filter that does not validate shows its error and lists nothing, never everything.
    found = events.qs if not events.is_bound or events.is_valid() else events.queryset.none()
    page = Paginator(found, AUDIT_PAGE_SIZE).get_page(text_param(request.GET, "page"))
    context = {"filter": events, "page": page, "section": "audit"}
    template = "crm/settings/audit.html" + ("#results" if request.htmx else "")
    return render(request, template, context)
