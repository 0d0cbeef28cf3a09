"""A member's calendar feed: the .ics address calendar apps fetch (no login, no
organisation in the URL: the token names it), and the page where the member gets it."""

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST, require_safe

from crm.permissions import org_member
from crm.requests import OrgRequest
from crm.tenancy import activate
from interactions import calendar
from interactions.models import CalendarFeed

# Calendar apps poll every few hours at most; a short cache spares the database a burst.
CACHE_CONTROL = "private, max-age=300"


@require_safe
def calendar_feed_ics(request: HttpRequest, token: str) -> HttpResponse:
    """The member's feed as text/calendar; 404 for any token that opens nothing, a revoked
    or replaced one, or one whose member has left the organisation."""
    with transaction.atomic():
        found = calendar.calendar_feed_owner(token)
        if found is None:
            raise Http404("No calendar here.")
        org, membership = found
        with activate(org):
            body = calendar.calendar_feed_render(
                org=org, membership=membership, site=_site(request), now=timezone.now()
            )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = CACHE_CONTROL
    response["Content-Disposition"] = 'inline; filename="calendar.ics"'
    response["X-Robots-Tag"] = "noindex"
    return response


def _site(request: HttpRequest) -> str:
    """The app's address: SITE_URL, as in the emails workers send, else as this request
    reached it. The feed's address, its links and its UIDs all start with it."""
    configured = str(getattr(settings, "SITE_URL", "") or "").rstrip("/")
    return configured or f"{request.scheme}://{request.get_host()}"


@require_GET
@org_member("task.view")
def calendar_feed_settings(request: OrgRequest) -> HttpResponse:
    feed = CalendarFeed.objects.filter(user=request.user).first()
    return render(request, "interactions/calendar_feed.html", {"feed": feed})


@never_cache
@require_POST
@org_member("task.view")
def calendar_feed_rotate(request: OrgRequest) -> HttpResponse:
    token = calendar.calendar_feed_rotate(org=request.org, user=request.user)
    address = f"{_site(request)}/calendar/{token}.ics"
    # Shown once: only its hash is kept, so this page is the one chance to copy it.
    context = {"address": address, "webcal": "webcal://" + address.partition("://")[2]}
    return render(request, "interactions/calendar_feed_address.html", context)


@require_POST
@org_member("task.view")
def calendar_feed_revoke(request: OrgRequest) -> HttpResponse:
    if calendar.calendar_feed_revoke(org=request.org, user=request.user):
        messages.success(request, "Calendar address turned off: calendars stop updating.")
    return redirect("calendar:feed", request.org.slug)
