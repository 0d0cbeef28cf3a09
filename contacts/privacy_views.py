"""A contact's personal data: download it, or erase it for good."""

from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from contacts import privacy, selectors
from contacts.forms import ContactEraseForm
from contacts.models import Contact
from crm.permissions import org_member
from crm.requests import OrgRequest


def _visible_contact(request: OrgRequest, contact_id: int) -> Contact:
    # Through the member's visible list: another organisation's contact, or one hidden
    # from this member, is a 404 like a missing one.
    return get_object_or_404(selectors.contact_list(request.membership), pk=contact_id)


@require_GET
@org_member("contact.privacy")
def contact_export_personal_data(request: OrgRequest, contact_id: int) -> HttpResponse:
    contact = _visible_contact(request, contact_id)
    data = privacy.contact_personal_data_export(org=request.org, contact=contact, by=request.user)
    response = JsonResponse(data, json_dumps_params={"indent": 2, "ensure_ascii": False})
    filename = f"contact-{contact.pk}-personal-data.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"  # personal data: no copy left in a cache
    return response


@require_http_methods(["GET", "POST"])
@org_member("contact.privacy")
def contact_erase(request: OrgRequest, contact_id: int) -> HttpResponse:
    contact = _visible_contact(request, contact_id)
    form = ContactEraseForm(request.POST or None, contact=contact)
    if form.is_valid():
        privacy.contact_erase(org=request.org, contact=contact, by=request.user)
        messages.success(request, "Erased the contact's personal data.")
        return redirect("contacts:detail", request.org.slug, contact.pk)
    return render(request, "contacts/contact_erase.html", {"contact": contact, "form": form})
