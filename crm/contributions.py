"""What each domain app adds to the platform, registered from its AppConfig.ready(), so that
adding an app edits nothing in crm: its pages under /o/<org>/, its entries in the left
navigation, its other pages the palette finds (settings), its nightly and periodic jobs, and
its isolation seeder (one row of each of its tenant models, for the tests that prove
organisations stay apart).

    contributions.register_org_urls("contacts.urls")
    contributions.register_navigation("Contacts", "contact:list", order=20,
                                      action="contact.view", icon="users")
    contributions.register_page("Members", "crm:members", section="Settings", action="org.manage")
    contributions.register_tenant_job("words", "contacts.search_words_resync", crontab(hour=4))
    contributions.register_isolation_seeder(contacts.isolation.seed)

Record kinds (crm.records.registry) and permission rules (crm.permissions) have their own
registries; an app declares those from ready() too.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# --- Pages ---------------------------------------------------------------------------------

_org_urls: list[str] = []


def register_org_urls(module: str) -> None:
    """Include the URLconf `module` under /o/<org_slug>/ (its own namespace: its app_name)."""
    if module not in _org_urls:
        _org_urls.append(module)


def org_urls() -> list[str]:
    return list(_org_urls)


_public_urls: list[str] = []


def register_public_urls(module: str) -> None:
    """Include the URLconf `module` at the root, outside /o/<org_slug>/: URLs that resolve
    their organisation themselves (a web hook's token), with no signed-in member."""
    if module not in _public_urls:
        _public_urls.append(module)


def public_urls() -> list[str]:
    return list(_public_urls)


# --- Navigation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NavEntry:
    """A section of the left navigation: shown to the members who may `action`."""

    label: str
    url_name: str  # reversed with the organisation's slug
    order: int
    action: str | None = None  # a permission of crm.permissions, or None for everyone
    icon: str = ""  # a Lucide icon of the vendored sprite (scripts/vendor.py lists them)


_navigation: dict[str, NavEntry] = {}


def register_navigation(
    label: str, url_name: str, *, order: int, action: str | None = None, icon: str = ""
) -> None:
    _navigation[url_name] = NavEntry(label, url_name, order, action, icon)


def navigation() -> list[NavEntry]:
    return sorted(_navigation.values(), key=lambda entry: (entry.order, entry.label))


# --- Pages the palette finds ---------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """A page the quick search and the palette find besides the navigation's sections: a
    settings page, say. Shown to the members who may `action`."""

    label: str
    url_name: str  # reversed with the organisation's slug, unless `org` is False
    section: str  # what the results say it belongs to: "Settings"
    action: str | None = None
    keywords: str = ""  # other words people look for it by ("invite" for Members)
    org: bool = True


_pages: dict[str, Page] = {}


def register_page(
    label: str,
    url_name: str,
    *,
    section: str,
    action: str | None = None,
    keywords: str = "",
    org: bool = True,
) -> None:
    _pages[url_name] = Page(label, url_name, section, action, keywords, org)


def pages() -> list[Page]:
    """The registered pages, in the order the apps registered them."""
    return list(_pages.values())


# --- Background jobs -----------------------------------------------------------------------

_jobs: dict[str, dict[str, Any]] = {}


def register_tenant_job(name: str, task: str, schedule: Any) -> None:
    """Run the tenant task `task` in every organisation on `schedule` (beat sends it through
    crm.fan_out, one task per organisation)."""
    _jobs[name] = {"task": "crm.fan_out", "schedule": schedule, "args": [task]}


def beat_schedule() -> dict[str, dict[str, Any]]:
    """The apps' entries of beat's schedule, by name."""
    return dict(_jobs)


# --- Isolation seeders ---------------------------------------------------------------------

# seed(org, admin) -> {model: one of its rows in org}, written through the services with
# org active. With it, the URL keywords of the app's pages and the models whose ids they take.
Seeder = Callable[..., dict[Any, Any]]
_seeders: list[tuple[Seeder, dict[str, Any]]] = []


def register_isolation_seeder(seed: Seeder, url_kwargs: dict[str, Any]) -> None:
    if all(seed is not found for found, _ in _seeders):
        _seeders.append((seed, dict(url_kwargs)))


def isolation_seeders() -> list[tuple[Seeder, dict[str, Any]]]:
    return list(_seeders)


# --- Home panels ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HomePanel:
    """A panel of the home page that an app fills: its template, given `panel` (what
    `data(request)` returns; None hides the panel for this member)."""

    template: str
    data: Callable[[Any], Any]
    order: int


_home_panels: dict[str, HomePanel] = {}


def register_home_panel(template: str, data: Callable[[Any], Any], *, order: int) -> None:
    _home_panels[template] = HomePanel(template, data, order)


def home_panels() -> list[HomePanel]:
    return sorted(_home_panels.values(), key=lambda panel: panel.order)


# --- The top bar ---------------------------------------------------------------------------

_topbar: list[str] = []


def register_topbar(template: str) -> None:
    """Include `template` in the top bar of every page of an organisation (the
    notifications menu), before the account menu. It runs no query of its own in the page:
    what it shows comes by htmx."""
    if template not in _topbar:
        _topbar.append(template)


def topbar() -> list[str]:
    return list(_topbar)


# --- Cards on record pages ------------------------------------------------------------------


@dataclass(frozen=True)
class RecordCard:
    """A card of the right column of a record's page that another app fills (a contact's
    deals): its template, given `card` (what `data(request, record)` returns; None hides it
    for this member)."""

    template: str
    data: Callable[[Any, Any], Any]
    order: int


_record_cards: dict[str, dict[str, RecordCard]] = {}


def register_record_card(
    kind: str, template: str, data: Callable[[Any, Any], Any], *, order: int
) -> None:
    """Show `template` on the pages of records of `kind` ("contact", "company")."""
    _record_cards.setdefault(kind, {})[template] = RecordCard(template, data, order)


def record_cards(kind: str) -> list[RecordCard]:
    return sorted(_record_cards.get(kind, {}).values(), key=lambda card: card.order)
