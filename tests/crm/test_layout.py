"""The base layout: navigation, skip link, assets, and a CSP that allows no inline code."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from crm.templatetags.crm_tags import when

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>")


def test_it_sends_anonymous_visitors_to_the_login_page(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_shows_the_navigation_and_skip_link_to_a_member(client: Client, alice) -> None:
    client.force_login(alice)
    html = client.get("/o/acme/").content.decode()
    assert '<a class="skip-link" href="#main">' in html
    assert 'id="main"' in html
    for section in ("Home", "Contacts", "Companies", "Deals", "Tickets", "Segments"):
        assert f">{section}<" in html
    assert re.search(r'aria-current="page">\s*(<svg.*?</svg>)?\s*<span>Home</span>', html, re.S)
    # The user menu: the name beside its initials, never the address.
    assert '<span class="visually-hidden">Account menu for Alice Archer</span>' in html
    assert '<span class="menu__label" aria-hidden="true">Alice Archer</span>' in html
    assert 'aria-hidden="true">AA</span>' in html
    assert "alice@acme.test" not in html


def test_settings_are_in_the_navigation_of_those_who_manage_the_organisation(
    client: Client, alice, rita
) -> None:
    client.force_login(alice)
    html = client.get("/o/acme/settings/members/").content.decode()
    assert '<a class="sidenav__link" href="/o/acme/settings/" aria-current="page">' in html
    client.force_login(rita)
    assert 'href="/o/acme/settings/"' not in client.get("/o/acme/").content.decode()


@pytest.mark.parametrize(
    "url", ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"]
)
def test_it_renders_account_pages_in_the_product_layout(client: Client, url: str) -> None:
    html = client.get(url).content.decode()
    assert "Kestrel CRM" in html
    assert "/static/css/app.css" in html
    assert 'class="layout-entrance"' in html


@pytest.mark.parametrize(
    "url",
    ["/o/acme/", "/o/acme/settings/members/", "/accounts/login/", "/accounts/email/"],
)
def test_it_has_no_inline_script_or_style(client: Client, alice, url: str) -> None:
    client.force_login(alice)
    response = client.get(url)
    html = response.content.decode()
    assert not INLINE_SCRIPT.search(html)
    assert "style=" not in html
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy


def test_it_loads_htmx_from_django_htmx(client: Client) -> None:
    html = client.get("/accounts/login/").content.decode()
    assert re.search(r'<script src="/static/django_htmx/htmx-2\.min\.js" defer>', html)


def test_it_sends_operators_to_allauth_to_log_in_to_the_admin(client: Client) -> None:
    response = client.get("/admin/")
    assert response.status_code == 302
    login = client.get(response["Location"])
    assert login.status_code == 302
    assert login["Location"].startswith("/accounts/login/?next=")


def test_it_points_browsers_asking_for_a_favicon_at_the_logo(client: Client) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("/static/img/logo.svg")


def test_a_time_reads_as_ago_within_a_week_and_as_a_date_before() -> None:
    now = timezone.now()
    assert when(now - timedelta(hours=3)) == "3\xa0hours ago"
    last_month = now - timedelta(days=40)
    local = timezone.localtime(last_month)
    expected = f"{local.day} {local.strftime('%b')}"
    if local.year != timezone.localtime(now).year:
        expected += f" {local.year}"
    assert when(last_month) == expected
    long_ago = now - timedelta(days=800)
    assert when(long_ago).endswith(f" {timezone.localtime(long_ago).year}")
    assert when(None) == ""
