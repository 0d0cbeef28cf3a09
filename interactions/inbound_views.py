"""Inbound email: the web hook mail relays post raw messages to (no login, no organisation
in the URL: the token names it), and its page in the organisation's settings."""

from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from urllib.parse import parse_qsl

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from crm.permissions import org_member
from crm.requests import OrgRequest
from crm.tenancy import activate
from interactions import inbound, outbound
from interactions.forms import MailboxForm
from interactions.mail_in import Refused
from interactions.models import Mailbox

# What relays' inbound hooks name the raw message's form field, the first found winning:
# Mailgun's "body-mime" (a route that forwards to a URL ending in "mime"), then others'.
FIELDS = ("body-mime", "email", "message")
FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")
FORM_OVERHEAD = 64 * 1024  # what a form's own parts add around the message


class _TooLarge(Exception):
    pass


@csrf_exempt
@require_POST
def inbound_email(request: HttpRequest, token: str) -> HttpResponse:
    """File the raw message posted to an organisation's address: 201 with its id, 4xx with
    the reason (as plain text) for what is not stored, 404 for any token that opens nothing."""
    with transaction.atomic():
        found = inbound.address(token)
        if found is None:
            raise Http404("No inbound address here.")
        org, file = found
        with activate(org):
            try:
                interaction, created = file(org=org, raw=_raw_message(request))
            except _TooLarge:
                limit = settings.INBOUND_EMAIL_MAX_BYTES
                return _refusal(f"The message is over the limit of {limit:,} bytes.", 413)
            except Refused as refusal:
                return _refusal(refusal.reason, 400)
    return JsonResponse({"id": interaction.pk, "created": created}, status=201)


def _refusal(reason: str, status: int) -> HttpResponse:
    return HttpResponse(reason + "\n", status=status, content_type="text/plain; charset=utf-8")


def _raw_message(request: HttpRequest) -> bytes:
    """The posted message's bytes, read no further than the limit: the body itself, or the
    form field a relay put it in."""
    limit = settings.INBOUND_EMAIL_MAX_BYTES
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit + FORM_OVERHEAD:
        raise _TooLarge
    raw = request.read(limit + FORM_OVERHEAD + 1)
    if request.content_type not in FORMS:  # message/rfc822, text/plain, or unsaid
        if len(raw) > limit:
            raise _TooLarge
        return raw
    if len(raw) > limit + FORM_OVERHEAD:
        raise _TooLarge
    # Read here, not by request.POST: Django holds a form's text fields to
    # DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB), well under a message with its attachments.
    try:
        fields = _form_fields(request.META.get("CONTENT_TYPE", ""), raw)
    except Exception as error:  # the email package's many kinds, on a hostile form
        raise Refused("The form could not be read.") from error
    for name in FIELDS:
        if name in fields:
            if len(fields[name]) > limit:
                raise _TooLarge
            return fields[name]
    raise Refused(
        "The form has no field named “body-mime”, “email” or “message” with the raw message."
    )


def _form_fields(content_type: str, body: bytes) -> dict[str, bytes]:
    """The fields of a posted form, by name, as bytes: the first of each name."""
    if content_type.startswith("application/x-www-form-urlencoded"):
        pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True, errors="surrogateescape")
        return {k: v.encode("utf-8", "surrogateescape") for k, v in reversed(pairs)}
    head = b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n"
    form = BytesParser(policy=compat32).parsebytes(head + body)
    parts: list[Message] = form.get_payload() if form.is_multipart() else []  # type: ignore[assignment]
    found: dict[str, bytes] = {}
    for part in parts:
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and name not in found:
            found[name] = payload if isinstance(payload, bytes) else b""
    return found


@require_http_methods(["GET", "POST"])
@org_member("org.manage")
def mailbox_settings(request: OrgRequest) -> HttpResponse:
    mailbox = Mailbox.objects.first()
    initial = {
        "create_leads": mailbox.create_leads if mailbox else True,
        "reply_to": mailbox.reply_to if mailbox else "",
    }
    # Not `request.POST or None`: an unticked box posts nothing, and that is an answer.
    form = MailboxForm(request.POST if request.method == "POST" else None, initial=initial)
    if form.is_valid():
        data = dict(form.cleaned_data)
        reply_to = data.pop("reply_to")
        inbound.mailbox_set_leads(org=request.org, by=request.user, **data)
        # The Reply-To of email sent from the app (interactions.outbound).
        outbound.mailbox_set_reply_to(org=request.org, by=request.user, reply_to=reply_to)
        messages.success(request, "Saved.")
        return redirect("interactions:mailbox", request.org.slug)
    live = mailbox is not None and mailbox.revoked_at is None
    context = {"form": form, "mailbox": mailbox, "live": live, "section": "mailbox"}
    return render(request, "interactions/mailbox.html", context)


@never_cache
@require_POST
@org_member("org.manage")
def mailbox_rotate(request: OrgRequest) -> HttpResponse:
    token = inbound.mailbox_rotate(org=request.org, by=request.user)
    address = request.build_absolute_uri(f"/inbound/email/{token}/")
    # Shown once: only its hash is kept, so this page is the one chance to copy it.
    context = {"address": address, "section": "mailbox"}
    return render(request, "interactions/mailbox_address.html", context)
