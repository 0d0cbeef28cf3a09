"""Companies: page, create, edit, delete to the Trash and back, name suggestions (their list
is the platform's)."""

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.html import format_html_join
from django.views.decorators.http import require_GET, require_http_methods

from contacts import selectors
from contacts.forms import CompanyForm, company_form_save, initial_for
from contacts.models import Company
from contacts.records import COMPANY, COMPANY_TAGS, CONTACT
from crm.params import text_param
from crm.permissions import can, org_member
from crm.records import columns
from crm.records import services as records
from crm.records.facts import record_facts
from crm.records.views import gone, look_alike
from crm.records.views.trash import say_trashed
from crm.requests import OrgRequest
from crm.selectors import object_history

# The company page lists this many of its contacts and links to the rest.
CONTACTS_SHOWN = 50
SUGGESTIONS = 10


def _visible_company(request: OrgRequest, company_id: int) -> Company | None:
    # Through the member's visible list: a rep limited to their own records gets the
    # same 404 for a colleague's company as for another organisation's.
    # Its page and form show its tags. None: not alive (see `gone`).
    found = selectors.company_list(request.membership).prefetch_related(COMPANY_TAGS.prefetch())
    return found.filter(pk=company_id).first()


@require_GET
@org_member("company.view")
def company_detail(request: OrgRequest, company_id: int) -> HttpResponse:
    visible = selectors.company_list(request.membership)
    company = visible.prefetch_related(COMPANY_TAGS.prefetch()).filter(pk=company_id).first()
    if company is None:  # perhaps merged into another: its old address leads there
        return gone(request, COMPANY, company_id)
    contacts = selectors.contact_list(request.membership).filter(company=company)
    context = {
        "company": company,
        "contacts": columns.prepare(
            CONTACT, list(contacts.order_by("last_name", "first_name", "id")[:CONTACTS_SHOWN])
        ),
        "contact_count": contacts.count(),
        "contact_columns": columns.default(CONTACT),
        "facts": record_facts(COMPANY, company, request.membership),
        "history": object_history(company),
        "can_edit": can(request.membership, "company.edit"),
    }
    return render(request, "contacts/company_detail.html", context)


def _save(request: OrgRequest, form: CompanyForm, company: Company | None) -> Company | None:
    return company_form_save(form, org=request.org, by=request.user, record=company)


@require_http_methods(["GET", "POST"])
@org_member("company.edit")
def company_new(request: OrgRequest) -> HttpResponse:
    form = CompanyForm(request.POST or None, initial={"owner": request.user.pk})
    alike: dict[str, Any] = {}
    if form.is_valid():
        domain = form.cleaned_data["domain"]
        alike = look_alike(
            request, COMPANY, lambda: selectors.company_with_domain(request.membership, domain),
            "website",
        )  # fmt: skip
        if alike["same"] is None and (company := _save(request, form, None)):
            messages.success(request, f"Added {company}.")
            return redirect("contacts:company_detail", request.org.slug, company.pk)
    context = {"form": form, "company": None, **alike}
    return render(request, "contacts/company_form.html", context)


@require_http_methods(["GET", "POST"])
@org_member("company.edit")
def company_edit(request: OrgRequest, company_id: int) -> HttpResponse:
    company = _visible_company(request, company_id)
    if company is None:  # deleted in another tab, perhaps: say where it went
        return gone(request, COMPANY, company_id)
    form = CompanyForm(request.POST or None, initial=initial_for(company, CompanyForm))
    if form.is_valid() and (saved := _save(request, form, company)):
        messages.success(request, f"Saved {saved}.")
        return redirect("contacts:company_detail", request.org.slug, saved.pk)
    return render(request, "contacts/company_form.html", {"form": form, "company": company})


@require_http_methods(["GET", "POST"])
@org_member("company.edit")
def company_delete(request: OrgRequest, company_id: int) -> HttpResponse:
    company = _visible_company(request, company_id)
    if company is None:
        return gone(request, COMPANY, company_id)
    if request.method == "POST":
        records.records_trash(org=request.org, by=request.user, kind=COMPANY, ids=[company.pk])
        say_trashed(request, company)
        return redirect("company:list", request.org.slug)
    return render(request, "contacts/company_delete.html", {"company": company})


@require_GET
@org_member("company.view")
def company_suggest(request: OrgRequest) -> HttpResponse:
    """<option> elements for the company box of the contact form, as the user types."""
    text = (text_param(request.GET, "company") or text_param(request.GET, "q")).strip().lower()
    if not text:
        return HttpResponse("")
    found = selectors.company_list(request.membership).filter(search_text__contains=text)
    names = found.prefetch_related(None).order_by("name", "id").values_list("name", flat=True)
    return HttpResponse(
        format_html_join("", '<option value="{}"></option>', ((n,) for n in names[:SUGGESTIONS]))
    )
