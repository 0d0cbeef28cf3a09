"""A ticket's pages: open one, read and work it (reply, note, change its properties, take
it, solve it, go to the next one). The inboxes are the platform's list (crm.records)."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.forms import apply_errors
from crm.params import id_param, local_next, text_param
from crm.permissions import org_member
from crm.records.versions import version_of
from crm.records.views import gone
from crm.requests import OrgRequest
from crm.selectors import object_history
from interactions.views import timeline_context
from support import canned, selectors, services
from support.forms import MergeForm, NoteForm, PropertiesForm, ReplyForm, TicketForm
from support.models import CannedReply, Status, Ticket
from support.records import TICKET, TICKET_TAGS

MAX_NUMBER = 2_147_483_647  # a number beyond PostgreSQL's integer is no ticket's


def _ticket(request: OrgRequest, number: int) -> Ticket | None:
    # Through the member's visible tickets: another organisation's number answers 404.
    if number > MAX_NUMBER:
        return None
    found = selectors.ticket_list(request.membership).select_related("policy")
    return found.prefetch_related(TICKET_TAGS.prefetch()).filter(number=number).first()


def _page(request: OrgRequest, ticket: Ticket) -> str:
    return reverse("tickets:detail", args=[request.org.slug, ticket.number])


def _found(request: OrgRequest, number: int) -> Ticket:
    ticket = _ticket(request, number)
    if ticket is None:
        raise Http404("No such ticket.")
    return ticket


def _merged_into(request: OrgRequest, number: int) -> Ticket | None:
    """The ticket that a merged one (visible to the member) went into."""
    if number > MAX_NUMBER:
        return None
    merged = Ticket.objects.visible_to(request.membership).filter(
        number=number, merged_into__isnull=False
    ).first()  # fmt: skip
    if merged is None or merged.merged_into_id is None:
        return None
    return selectors.ticket_list(request.membership).filter(pk=merged.merged_into_id).first()


def _context(request: OrgRequest, ticket: Ticket, **forms: Any) -> dict[str, Any]:
    works = services.may_work(request.membership)
    timeline = timeline_context(request, ticket)
    properties = forms.get("properties") or PropertiesForm(
        initial={
            "status": ticket.status, "priority": ticket.priority,
            "assignee": ticket.assignee_id, "queue": ticket.queue_id,
            "version": version_of(ticket),
        }
    )  # fmt: skip
    return {
        "ticket": ticket,
        "works": works,
        "reply_form": forms.get("reply") or ReplyForm(),
        "note_form": forms.get("note") or NoteForm(),
        "properties": properties,
        "composer": forms.get("composer", "reply"),
        "canned": canned.canned_choices() if works else [],
        "other_tickets": selectors.requester_tickets(ticket, request.membership),
        "recent": selectors.requester_interactions(ticket),
        "history": object_history(ticket),
        "can_reply": works and ticket.status != Status.CLOSED,
        "now_paused": ticket.status in services.PAUSED,
        **timeline,
        "can_log": False,  # the composers here take the place of the quick log
    }


@require_GET
@org_member("ticket.view")
def ticket_detail(request: OrgRequest, number: int) -> HttpResponse:
    ticket = _ticket(request, number)
    if ticket is None:
        target = _merged_into(request, number)
        if target is None:
            raise Http404("No such ticket.")
        messages.info(request, f"Ticket #{number} was merged into #{target.number}.")
        return redirect("tickets:detail", request.org.slug, target.number)
    forms: dict[str, Any] = {}
    canned_id = id_param(request.GET.get("canned"))
    if canned_id is not None and services.may_work(request.membership):
        chosen = CannedReply.objects.filter(pk=canned_id).first()
        if chosen is not None:  # the reply box starts with it, filled in for this ticket
            body = canned.fill(chosen.body, ticket=ticket, agent=request.user)
            forms["reply"] = ReplyForm(initial={"body": body})
    return render(request, "support/ticket_detail.html", _context(request, ticket, **forms))


@require_GET
@org_member("ticket.view")
def ticket_by_id(request: OrgRequest, ticket_id: int) -> HttpResponse:
    """A ticket's page by its id, for the platform's pages that name records by id (the
    Trash, a timeline's return): the page by its number."""
    found = Ticket.objects.alive().visible_to(request.membership).filter(pk=ticket_id).first()
    if found is None:
        return gone(request, TICKET, ticket_id)
    query = request.GET.urlencode()
    return redirect(f"{_page(request, found)}{'?' + query if query else ''}")


@require_http_methods(["GET", "POST"])
@org_member("ticket.edit")
def ticket_new(request: OrgRequest) -> HttpResponse:
    # From a contact's page: for them (?requester=<address>&requester_name=<name>).
    prefill = {name: text_param(request.GET, name) for name in ("requester", "requester_name")}
    form = TicketForm(request.POST or None, initial=prefill)
    if form.is_valid():
        data = form.cleaned_data
        try:
            requester = form.requester_contact(org=request.org, by=request.user)
            ticket = services.ticket_create(
                org=request.org, by=request.user, subject=data["subject"], queue=data["queue"],
                requester=requester, priority=data["priority"], assignee=data["assignee"],
                description=data["description"],
            )  # fmt: skip
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"Opened ticket #{ticket.number}.")
            return redirect("tickets:detail", request.org.slug, ticket.number)
    status = 400 if form.errors else 200
    return render(request, "support/ticket_form.html", {"form": form}, status=status)


def _working(request: OrgRequest, number: int) -> Ticket:
    if not services.may_work(request.membership):
        raise PermissionDenied
    return _found(request, number)


def _refused(request: OrgRequest, ticket: Ticket, **forms: Any) -> HttpResponse:
    ticket.refresh_from_db()
    return render(
        request, "support/ticket_detail.html", _context(request, ticket, **forms), status=400
    )


@require_POST
@org_member("ticket.edit")
def ticket_reply(request: OrgRequest, number: int) -> HttpResponse:
    ticket = _working(request, number)
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            services.ticket_reply(
                org=request.org, ticket=ticket, by=request.user, body=form.cleaned_data["body"],
                status=form.cleaned_data["status"],
            )  # fmt: skip
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"Reply sent to {ticket.requester}.")
            return redirect(_page(request, ticket))
    return _refused(request, ticket, reply=form, composer="reply")


@require_POST
@org_member("ticket.edit")
def ticket_note(request: OrgRequest, number: int) -> HttpResponse:
    ticket = _working(request, number)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.ticket_note(
                org=request.org, ticket=ticket, by=request.user, body=form.cleaned_data["body"]
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Note added.")
            return redirect(_page(request, ticket))
    return _refused(request, ticket, note=form, composer="note")


@require_POST
@org_member("ticket.edit")
def ticket_properties(request: OrgRequest, number: int) -> HttpResponse:
    ticket = _working(request, number)
    form = PropertiesForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.ticket_update(
                org=request.org, ticket=ticket, by=request.user, version=data["version"] or None,
                status=data["status"], priority=data["priority"], assignee=data["assignee"],
                queue=data["queue"],
            )  # fmt: skip
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"Ticket #{ticket.number} updated.")
            return redirect(_page(request, ticket))
    return _refused(request, ticket, properties=form)


def _quick(request: OrgRequest, number: int, said: str, **fields: Any) -> HttpResponse:
    ticket = _working(request, number)
    try:
        services.ticket_update(
            org=request.org, ticket=ticket, by=request.user,
            version=request.POST.get("version") or None, **fields,
        )  # fmt: skip
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, said.format(number=ticket.number))
    return redirect(_page(request, ticket))


@require_POST
@org_member("ticket.edit")
def ticket_take(request: OrgRequest, number: int) -> HttpResponse:
    return _quick(request, number, "Ticket #{number} is yours.", assignee=request.user)


@require_POST
@org_member("ticket.edit")
def ticket_solve(request: OrgRequest, number: int) -> HttpResponse:
    return _quick(request, number, "Ticket #{number} solved.", status=Status.SOLVED)


@require_GET
@org_member("ticket.view")
def ticket_next(request: OrgRequest, number: int) -> HttpResponse:
    """The next ticket to work: the member's own soonest due, else the unassigned."""
    ticket = _found(request, number)
    nxt = selectors.next_ticket(ticket, request.membership)
    if nxt is None:
        messages.info(request, "No other ticket is waiting for you.")
        return redirect(_page(request, ticket))
    return redirect("tickets:detail", request.org.slug, nxt.number)


@require_http_methods(["GET", "POST"])
@org_member("ticket.edit")
def ticket_merge(request: OrgRequest, number: int) -> HttpResponse:
    """Merge this ticket into another: the number asked for, then what moves shown and
    confirmed, then merged."""
    ticket = _working(request, number)
    form = MergeForm(request.POST or None)
    into = None
    if form.is_valid():
        into = _ticket(request, form.cleaned_data["into"])
        if into is None:
            form.add_error("into", f"No ticket #{form.cleaned_data['into']} here.")
        elif into.pk == ticket.pk:
            form.add_error("into", "Choose another ticket to merge this one into.")
        elif request.POST.get("confirm"):
            try:
                services.ticket_merge(org=request.org, ticket=ticket, into=into, by=request.user)
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, f"Merged #{ticket.number} into #{into.number}.")
                return redirect(_page(request, into))
    context = {"ticket": ticket, "form": form, "into": into if not form.errors else None}
    status = 400 if form.errors else 200
    return render(request, "support/ticket_merge.html", context, status=status)


@require_POST
@org_member("ticket.edit")
def availability(request: OrgRequest) -> HttpResponse:
    """The agent takes new tickets from the queues that assign on their own, or is away."""
    available = request.POST.get("available") == "1"
    services.agent_set_available(org=request.org, user=request.user, available=available)
    said = "You take new tickets again." if available else "You are away: no new tickets."
    messages.success(request, said)
    return redirect(local_next(request) or reverse("crm:home", args=[request.org.slug]))
