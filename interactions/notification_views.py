"""The notifications menu of the top bar (its list comes by htmx, so that no page pays
for it), the page of all of them, and marking them read. A member sees only their own:
another's id answers 404."""

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from crm.permissions import org_member
from crm.requests import OrgRequest
from interactions import reminders
from interactions.models import Notification

MENU_SIZE = 8


def _mine(request: OrgRequest) -> QuerySet[Notification]:
    return Notification.objects.filter(user_id=request.user.pk)


@require_GET
@org_member()
def notification_menu(request: OrgRequest) -> HttpResponse:
    """The menu's unread count and latest notifications (htmx, on load and every minute)."""
    return _menu(request)


def _menu(request: OrgRequest) -> HttpResponse:
    mine = _mine(request)
    context = {
        "unread": mine.filter(read_at__isnull=True).count(),
        "latest": list(mine.order_by("-created_at", "-id")[:MENU_SIZE]),
    }
    return render(request, "interactions/_notifications_menu.html", context)


@require_GET
@org_member()
def notification_list(request: OrgRequest) -> HttpResponse:
    page = Paginator(_mine(request).order_by("-created_at", "-id"), 30).get_page(
        request.GET.get("page")
    )
    unread = _mine(request).filter(read_at__isnull=True).count()
    return render(request, "interactions/notifications.html", {"page": page, "unread": unread})


@require_GET
@org_member()
def notification_open(request: OrgRequest, notification_id: int) -> HttpResponse:
    """Mark it read and go where it points."""
    found = get_object_or_404(_mine(request), pk=notification_id)
    reminders.notifications_read(org=request.org, user_id=request.user.pk, ids=[found.pk])
    safe = url_has_allowed_host_and_scheme(found.url, {request.get_host()}, request.is_secure())
    if found.url and safe:
        return redirect(found.url)
    return redirect("notifications:list", request.org.slug)


@require_POST
@org_member()
def notifications_read(request: OrgRequest) -> HttpResponse:
    reminders.notifications_read(org=request.org, user_id=request.user.pk)
    if request.htmx:
        return _menu(request)
    return redirect("notifications:list", request.org.slug)
