"""The public rating pages a solved ticket's email links to (/csat/<token>/, no login).

The link in the email only opens a page: mail scanners and link previews follow GET links,
and one of them must not rate the ticket on the customer's behalf. That page's single button
("Send my rating") posts the rating, and the thanks that follow offer a comment, taken once.

No CSRF token: the signed token in the URL is the credential (a page elsewhere cannot post a
rating without knowing it), and these pages set no cookie. The signature stops a forged
link before any query; an organisation comes from a genuine token only, and is activated
before its ticket is looked up, so one organisation's link never reaches another's ticket.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from crm.models import Organization
from crm.tenancy import activate
from support import csat
from support.models import Ticket


@dataclass(frozen=True)
class _Link:
    """A genuine link, opened: its token, and the organisation, ticket and score it names."""

    token: str
    org: Organization
    ticket: Ticket
    score: int


class CommentForm(forms.Form):
    comment = forms.CharField(
        max_length=csat.MAX_COMMENT, label="Anything you would like to add?",
        widget=forms.Textarea(attrs={"rows": 4}),
    )  # fmt: skip


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def csat_rate(request: HttpRequest, token: str) -> HttpResponse:
    """GET: the rating the link gives, and the button that sends it. POST: keep it and say
    thanks (200), or say it was rated already (409); 400 for a forged link, 410 for an
    expired one, 404 for a ticket gone."""
    return _with_ticket(request, token, _rate)


def _rate(request: HttpRequest, link: _Link) -> HttpResponse:
    ticket = link.ticket
    if request.method != "POST":
        if ticket.csat_score is not None:
            return _page(request, link, "rated", ticket)
        return _page(request, link, "confirm", ticket)
    try:
        ticket = csat.csat_record(org=link.org, ticket=ticket, score=link.score)
    except ValidationError:
        ticket.refresh_from_db()
        return _page(request, link, "rated", ticket, status=409)
    return _page(request, link, "thanks", ticket, form=CommentForm())


@csrf_exempt
@never_cache
@require_POST
def csat_comment(request: HttpRequest, token: str) -> HttpResponse:
    """The comment that goes with a rating: thanks (200), the form with its error (400), or
    refused (409) when the rating has one or is not this link's."""
    return _with_ticket(request, token, _comment)


def _comment(request: HttpRequest, link: _Link) -> HttpResponse:
    ticket, form = link.ticket, CommentForm(request.POST)
    if not form.is_valid():
        return _page(request, link, "thanks", ticket, form=form, status=400)
    try:
        comment = form.cleaned_data["comment"]
        csat.csat_comment_add(org=link.org, ticket=ticket, score=link.score, comment=comment)
    except ValidationError as error:
        if "comment" in error.message_dict:
            form.add_error("comment", error.message_dict["comment"])
            return _page(request, link, "thanks", ticket, form=form, status=400)
        notice = " ".join(error.message_dict.get(NON_FIELD_ERRORS, []))
        return _page(request, link, "rated", ticket, notice=notice, status=409)
    return _page(request, link, "commented", ticket)


def _with_ticket(
    request: HttpRequest, token: str, then: Callable[[HttpRequest, _Link], HttpResponse]
) -> HttpResponse:
    """Run `then(request, link)` with the link's organisation active, or answer the page that
    says why the link opens nothing."""
    try:
        claims = csat.csat_claims(token)
    except csat.LinkExpired:
        return _gone(request, "expired", 410)
    except csat.LinkInvalid:
        return _gone(request, "invalid", 400)
    org = Organization.objects.filter(pk=claims.org_id).first()
    if org is None:
        return _gone(request, "missing", 404)
    with activate(org):  # the organisation's transaction, rendering included
        ticket = Ticket.objects.filter(pk=claims.ticket_id, deleted_at__isnull=True).first()
        if ticket is None:
            return _gone(request, "missing", 404)
        return then(request, _Link(token, org, ticket, claims.score))


def _page(
    request: HttpRequest, link: _Link, state: str, ticket: Ticket, *,
    form: CommentForm | None = None, notice: str = "", status: int = 200,
) -> HttpResponse:  # fmt: skip
    context = {
        "state": state, "token": link.token, "org": link.org, "ticket": ticket,
        "score": link.score, "label": csat.LABELS[link.score], "form": form, "notice": notice,
        "kept_label": csat.LABELS.get(ticket.csat_score or 0, ""),
    }  # fmt: skip
    return render(request, "support/csat_page.html", context, status=status)


def _gone(request: HttpRequest, reason: str, status: int) -> HttpResponse:
    return render(request, "support/csat_gone.html", {"reason": reason}, status=status)
