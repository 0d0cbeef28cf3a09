"""Contacts: page, create, edit, delete to the Trash and back (their list is the platform's)."""

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.html import format_html_join
from django.views.decorators.http import require_GET, require_http_methods

from contacts import selectors
from contacts.forms import ContactForm, contact_form_save, initial_for
from contacts.models import Contact
from contacts.records import CONTACT, CONTACT_TAGS
from contacts.segments import selectors as segment_selectors
from crm.params import text_param
from crm.permissions import can, org_member
from crm.records import services as records
from crm.records.facts import record_facts
from crm.records.search import search
from crm.records.views import gone, look_alike
from crm.records.views.trash import say_trashed
from crm.requests import OrgRequest
from crm.selectors import object_history

SUGGESTIONS = 10


def _visible_contact(request: OrgRequest, contact_id: int) -> Contact | None:
    # Through the member's visible list: a rep limited to their own records gets the
    # same 404 for a colleague's contact as for another organisation's.
    # Its page and form show its tags. None: not alive (see `gone`).
    found = selectors.contact_list(request.membership).prefetch_related(CONTACT_TAGS.prefetch())
    return found.filter(pk=contact_id).first()


@require_GET
@org_member("contact.view")
def contact_detail(request: OrgRequest, contact_id: int) -> HttpResponse:
    # With the segments it is in and its scores, read in the same query (their cards).
    visible = segment_selectors.with_segments(selectors.contact_list(request.membership))
    visible = visible.select_related("score")
    contact = visible.prefetch_related(CONTACT_TAGS.prefetch()).filter(pk=contact_id).first()
    if contact is None:  # perhaps merged into another: its old address leads there
        return gone(request, CONTACT, contact_id)
    context = {
        "contact": contact,
        "segments": segment_selectors.segment_card(contact),
        "facts": record_facts(CONTACT, contact, request.membership),
        "history": object_history(contact),
        "can_edit": can(request.membership, "contact.edit"),
    }
    return render(request, "contacts/contact_detail.html", context)


def _save(request: OrgRequest, form: ContactForm, contact: Contact | None) -> Contact | None:
    return contact_form_save(form, org=request.org, by=request.user, record=contact)


@require_http_methods(["GET", "POST"])
@org_member("contact.edit")
def contact_new(request: OrgRequest) -> HttpResponse:
    form = ContactForm(request.POST or None, initial={"owner": request.user.pk})
    alike: dict[str, Any] = {}
    if form.is_valid():
        email = form.cleaned_data["email"]
        alike = look_alike(
            request, CONTACT, lambda: selectors.contact_with_email(request.membership, email),
            "email address",
        )  # fmt: skip
        if alike["same"] is None and (contact := _save(request, form, None)):
            messages.success(request, f"Added {contact}.")
            return redirect("contacts:detail", request.org.slug, contact.pk)
    context = {"form": form, "contact": None, **alike}
    return render(request, "contacts/contact_form.html", context)


@require_http_methods(["GET", "POST"])
@org_member("contact.edit")
def contact_edit(request: OrgRequest, contact_id: int) -> HttpResponse:
    contact = _visible_contact(request, contact_id)
    if contact is None:  # deleted in another tab, perhaps: say where it went
        return gone(request, CONTACT, contact_id)
    form = ContactForm(request.POST or None, initial=initial_for(contact, ContactForm))
    if form.is_valid() and (saved := _save(request, form, contact)):
        messages.success(request, f"Saved {saved}.")
        return redirect("contacts:detail", request.org.slug, saved.pk)
    return render(request, "contacts/contact_form.html", {"form": form, "contact": contact})


@require_http_methods(["GET", "POST"])
@org_member("contact.edit")
def contact_delete(request: OrgRequest, contact_id: int) -> HttpResponse:
    contact = _visible_contact(request, contact_id)
    if contact is None:
        return gone(request, CONTACT, contact_id)
    if request.method == "POST":
        records.records_trash(org=request.org, by=request.user, kind=CONTACT, ids=[contact.pk])
        say_trashed(request, contact)
        return redirect("contact:list", request.org.slug)
    return render(request, "contacts/contact_delete.html", {"contact": contact})


@require_GET
@org_member("contact.view")
def contact_suggest(request: OrgRequest) -> HttpResponse:
    """<option> elements for a contact box (a deal's primary contact), as the user types:
    "Name <address>", which the box reads back by its address."""
    text = (text_param(request.GET, "contact") or text_param(request.GET, "q")).strip()
    if len(text) < 2:
        return HttpResponse("")
    found = search(selectors.contact_list(request.membership), text, limit=SUGGESTIONS * 5)
    people = found.exclude(email="").order_by("last_name", "first_name", "id")[:SUGGESTIONS]
    shown = ((f"{c.name} <{c.email}>" if c.name else c.email,) for c in people)
    return HttpResponse(format_html_join("", '<option value="{}"></option>', shown))
