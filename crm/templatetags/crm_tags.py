"""Template helpers shared by every app's pages."""

from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.forms import BoundField
from django.http import HttpRequest
from django.templatetags.static import static
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from crm import links
from crm.fields import field_html

register = template.Library()

SPRITE = "vendor/lucide/sprite.svg"


@register.simple_tag
def icon(name: str, size: str = "") -> SafeString:
    """A Lucide icon from the vendored sprite; scripts/vendor.py lists the ones it holds (add
    a name there and run `make vendor`). Decorative: the control it sits in carries the words.
        {% icon "search" %}
        {% icon "mail" size="text" %}      1em, in running text
    A tag, not an include: a timeline draws dozens, and an include costs ten times more."""
    modifier = f" icon--{size}" if size else ""
    return format_html(
        '<svg class="icon{}" aria-hidden="true" focusable="false">'
        '<use href="{}#{}"></use></svg>', modifier, _sprite_url(), name,
    )  # fmt: skip


@register.simple_tag
def record_url(name: str, org_slug: str, pk: int) -> str:
    """{% url name org.slug pk %} for what a page draws many of (timeline entries, task
    lines): reversed once per name and organisation (crm.links)."""
    return links.record_url(name, org_slug, pk)


@lru_cache(maxsize=1)
def _sprite_url() -> str:
    """The sprite's URL, hashed by the manifest in production: the same for the process."""
    return static(SPRITE)


@register.simple_tag
def query_with(request: HttpRequest, **changes: object) -> str:
    """The current query string with `changes` applied: '?status=open&page=2'."""
    query = request.GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = str(value)
    return "?" + query.urlencode()


@register.filter
def undo_url(message: Any) -> str:
    """{{ message|undo_url }}: where a message's Undo button posts, when it has one (a view
    adds it as extra_tags="undo <url>")."""
    tags = str(getattr(message, "extra_tags", "") or "").split()
    return tags[1] if len(tags) == 2 and tags[0] == "undo" and tags[1].startswith("/") else ""


@register.filter
@lru_cache(maxsize=20_000)  # a pure function of the string; parsing costs ~0.1 ms a number
def phone(e164: str) -> str:
    """+442079460958 → "020 7946 0958 (GB)": written as its own country does, with the
    country named so the number stays unambiguous for colleagues abroad."""
    if not e164:
        return ""
    import phonenumbers

    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    region = phonenumbers.region_code_for_number(number)
    return f"{national} ({region})" if region else national


@register.simple_tag
def field(bound: BoundField) -> SafeString:
    """{% field form.email %}: the field in our markup (components/_field.html's), written
    in Python rather than through Django's widget templates (crm.fields)."""
    return field_html(bound)


# How far back a time still reads best as "3 hours ago"; older ones read as a date.
RECENT = timedelta(days=7)


@register.filter
def when(value: datetime | None) -> str:
    """{{ time|when }}: "3 hours ago" within a week, else "18 Nov" (this year) or
    "18 Nov 2025", in the active time zone. The exact time goes in the <time>'s title."""
    if value is None:
        return ""
    now = timezone.now()
    if now - RECENT <= value <= now + timedelta(minutes=5):
        return str(naturaltime(value))
    local = timezone.localtime(value)
    same_year = local.year == timezone.localtime(now).year
    return f"{local.day} {local.strftime('%b')}" + ("" if same_year else f" {local.year}")


# The platform's own settings pages, which the settings layout lists in its own order.
_PLATFORM = ("crm", "records")


@register.simple_tag(takes_context=True)
def app_settings_pages(context: template.Context) -> list[dict[str, object]]:
    """The Settings pages the domain apps registered (crm.contributions) that this member may
    open, for the settings layout's navigation: [{"label", "url", "current"}]."""
    from django.urls import reverse

    from crm.contributions import pages
    from crm.permissions import can

    request, org = context.get("request"), context.get("org")
    if request is None or org is None:
        return []
    found: list[dict[str, object]] = []
    for page in pages():
        if page.section != "Settings" or page.url_name.split(":")[0] in _PLATFORM:
            continue
        if page.action and not can(context.get("membership"), page.action):
            continue
        url = reverse(page.url_name, args=[org.slug])
        found.append({"label": page.label, "url": url, "current": request.path.startswith(url)})
    return found


@register.simple_tag(takes_context=True)
def app_account_pages(context: template.Context) -> list[dict[str, str]]:
    """The Account pages of the organisation that the domain apps registered (a calendar
    feed), for the account menu: [{"label", "url"}]."""
    from django.urls import reverse

    from crm.contributions import pages
    from crm.permissions import can

    org = context.get("org")
    if org is None:
        return []
    return [
        {"label": page.label, "url": reverse(page.url_name, args=[org.slug])}
        for page in pages()
        if page.section == "Account" and page.org
        and (not page.action or can(context.get("membership"), page.action))
    ]  # fmt: skip
