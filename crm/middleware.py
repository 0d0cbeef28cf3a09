"""Requests under /o/<org_slug>/: resolve the organisation, check membership, hold both walls."""

import re
import time
import zoneinfo
from collections.abc import Callable
from typing import Any

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django_htmx.http import HttpResponseClientRedirect

from crm.audit import request_ip
from crm.requests import client_ip
from crm.selectors import my_memberships
from crm.tenancy import activate_for_request, set_database_user

ORG_PATH = re.compile(r"^/o/(?P<slug>[-a-zA-Z0-9_]+)/")


SIGNED_IN_AT = "crm:signed_in_at"
SEEN_AT = "crm:seen_at"
# The last request's time is written to the session at most this often, so that a page
# costs no session write; the idle timeout is that much coarse.
TOUCH_EVERY = 300


class SessionTimeoutMiddleware:
    """Signs out a session idle for SESSION_IDLE_HOURS, or signed in more than
    SESSION_MAX_DAYS ago, and sends the person to sign in again, back to where they were."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            ended = self._ended(request)
            if ended:
                return ended
        return self.get_response(request)

    def _ended(self, request: HttpRequest) -> HttpResponse | None:
        session, now = request.session, time.time()
        signed_in, seen = session.get(SIGNED_IN_AT), session.get(SEEN_AT)
        if signed_in is None or seen is None:  # a session from before these were kept
            session[SIGNED_IN_AT] = signed_in or now
            session[SEEN_AT] = now
            return None
        idle = now - seen > settings.SESSION_IDLE_HOURS * 3600
        if idle or now - signed_in > settings.SESSION_MAX_DAYS * 86400:
            logout(request)
            why = "without activity" if idle else "since you signed in"
            hours = settings.SESSION_IDLE_HOURS if idle else settings.SESSION_MAX_DAYS * 24
            messages.info(request, f"You were signed out after {hours} hours {why}.")
            following = request.get_full_path() if request.method == "GET" else "/"
            target = redirect_to_login(following).url
            # htmx asked for a piece of a page: have it load the sign-in page as a whole.
            htmx = request.headers.get("HX-Request") == "true"
            return HttpResponseClientRedirect(target) if htmx else redirect(target)
        if now - seen > TOUCH_EVERY:
            session[SEEN_AT] = now
        return None


def session_started(sender: Any, request: HttpRequest, **kwargs: Any) -> None:
    """On sign-in: the session's lifetime and idle time count from now."""
    now = time.time()
    request.session[SIGNED_IN_AT] = now
    request.session[SEEN_AT] = now


class AuditIPMiddleware:
    """Attributes the audit events a request writes to the client's address.

    The address is the one allauth's rate limits count by too (crm.requests.client_ip:
    the peer's, or what TRUSTED_PROXY_COUNT proxies say it was).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with request_ip(client_ip(request)):
            return self.get_response(request)


class OrganizationMiddleware:
    """Runs a whole /o/<org_slug>/ request, template rendering included, in one transaction
    with the organisation active; a non-member gets the same 404 as a missing organisation.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        match = ORG_PATH.match(request.path_info)
        if not match:
            return self.get_response(request)
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        with transaction.atomic():
            set_database_user(request.user.pk)
            # The user's memberships in every organisation, in one query: the one for this
            # page, and the others for the organisation switcher.
            memberships = my_memberships(request.user)
            membership = next((m for m in memberships if m.org.slug == match["slug"]), None)
            if membership is None:  # not a member, or no such organisation: the same answer
                raise Http404("No such organisation.")
            org = membership.org
            with activate_for_request(org):
                request.org = org  # type: ignore[attr-defined]
                request.membership = membership  # type: ignore[attr-defined]
                request.my_memberships = memberships  # type: ignore[attr-defined]
                # Dates and times on the organisation's pages read in its own time zone.
                timezone.activate(zoneinfo.ZoneInfo(org.time_zone))
                if org.require_mfa and not is_mfa_enabled(request.user):
                    messages.warning(
                        request, f"{org.name} requires two-factor authentication: set it up first."
                    )
                    return redirect("mfa_index")
                try:
                    response = self.get_response(request)
                finally:
                    timezone.deactivate()
            if response.status_code >= 500:
                # The view failed after writing: keep none of it.
                transaction.set_rollback(True)
            return response

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: dict[str, Any]
    ) -> None:
        # Views take the organisation from request.org, not from their arguments.
        kwargs.pop("org_slug", None)


class PermissionsPolicyMiddleware:
    """Sends settings.PERMISSIONS_POLICY: the browser features no page may use."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response
