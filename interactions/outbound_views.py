"""Writing an email to a contact from their page (the composer), and sending a failed one
again. The sending itself is interactions.outbound's, in a worker."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from contacts import selectors as contact_selectors
from contacts.models import Contact
from crm.forms import apply_errors
from crm.permissions import can, org_member
from crm.requests import OrgRequest
from interactions import outbound, selectors, services
from interactions.forms import EmailForm
from interactions.models import Interaction


def _contact_page(request: OrgRequest, contact: Contact | int) -> str:
    pk = contact if isinstance(contact, int) else contact.pk
    return reverse("contacts:detail", args=[request.org.slug, pk])


@require_http_methods(["GET", "POST"])
@org_member("interaction.log")
def contact_email(request: OrgRequest, contact_id: int) -> HttpResponse:
    """GET: the composer (htmx: the form alone, for the contact's page). POST: send."""
    # Through the member's visible contacts: another organisation's id is a 404.
    contact = get_object_or_404(contact_selectors.contact_list(request.membership), pk=contact_id)
    form = EmailForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            sent = outbound.interaction_email_send(
                org=request.org, by=request.user, contact=contact, **form.cleaned_data
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            if request.htmx:  # the composer closes, and the entry goes on top of the timeline
                context = {"contact": contact, "entry": sent, "can_edit_any": _any(request)}
                return render(request, "interactions/_compose_sent.html", context)
            messages.success(request, f"Sending your email to {contact}.")
            return redirect(f"{_contact_page(request, contact)}#interaction-{sent.pk}")
    context = {"contact": contact, "form": form, "back": _contact_page(request, contact)}
    template = "interactions/compose.html" + ("#composer" if request.htmx else "")
    status = 400 if request.method == "POST" and not request.htmx else 200
    return render(request, template, context, status=status)


def _any(request: OrgRequest) -> bool:
    return can(request.membership, "interaction.edit_any")


@require_POST
@org_member("interaction.log")
def interaction_email_retry(request: OrgRequest, interaction_id: int) -> HttpResponse:
    """Send a failed email again: its author or a manager may."""
    found = selectors.interaction_list(request.membership)
    interaction: Interaction = get_object_or_404(found, pk=interaction_id)
    if not services.may_change(request.membership, interaction):
        raise PermissionDenied
    queued = outbound.interaction_email_retry(
        org=request.org, by=request.user, interaction=interaction
    )
    if request.htmx:  # the entry again, now "Sending…"
        context = {"entry": interaction, "can_edit_any": _any(request)}
        return render(request, "interactions/_entry.html", context)
    if queued:
        messages.success(request, "Sending the email again.")
    else:
        messages.info(request, "That email is not waiting to be sent again.")
    if interaction.contact_id is None:
        return redirect("interactions:detail", request.org.slug, interaction.pk)
    return redirect(
        f"{_contact_page(request, interaction.contact_id)}#interaction-{interaction.pk}"
    )


@require_GET
@org_member("interaction.view")
def interaction_delivery(request: OrgRequest, interaction_id: int) -> HttpResponse:
    """An email's timeline entry as it is now: what a "Sending…" entry asks for by htmx
    every few seconds, until it is sent or not."""
    found = selectors.interaction_list(request.membership)
    interaction: Interaction = get_object_or_404(found, pk=interaction_id)
    if not request.htmx:
        return redirect("interactions:detail", request.org.slug, interaction.pk)
    context = {"entry": interaction, "can_edit_any": _any(request)}
    return render(request, "interactions/_entry.html", context)
