"""A record's facts on its page, each edited in place: what a kind declares, and the form for
one fact.

A kind declares its page's built-in facts, its full edit form and how that form saves
(`Facts`); its custom fields follow on their own. Editing one fact uses the full edit form
with every other field taken out: the same fields, the same checks, the same service, so
History records the change as it does for a full edit, and a save over a change made
meanwhile is refused in the same words (crm.records.versions). The views are the platform's
(crm.records.views.facts), one URL per kind: <prefix>/<id>/field/<name>/.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django import forms
from django.template.defaultfilters import linebreaksbr
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString

from crm.people import person_html
from crm.permissions import can
from crm.records.custom_fields import definitions, display
from crm.records.models import CustomField

if TYPE_CHECKING:
    from crm.models import Membership, Organization, User
    from crm.records.registry import Kind

# show(record) -> the fact as its page shows it, escaped; "" when it is empty.
Show = Callable[[Any], str]
# link(record, org_slug) -> where the fact leads besides (mailto:, a company's page), or "".
Link = Callable[[Any, str], str]


@dataclass(frozen=True)
class Fact:
    """One built-in fact of a kind's records, as its page shows it."""

    name: str  # in its URL: <prefix>/<id>/field/<name>/
    label: str
    show: Show
    # The fields of the kind's edit form it changes: (name,) unless given; () for a fact
    # that no form changes (when a record was added, its consent).
    fields: tuple[str, ...] | None = None
    link: Link | None = None
    link_label: str = ""  # what following the link does: "Write", "Call", "Open"
    # The permission a member needs to see it at all ("deal.view_value"); "" for everyone.
    action: str = ""

    @property
    def form_fields(self) -> tuple[str, ...]:
        return (self.name,) if self.fields is None else self.fields


@dataclass(frozen=True)
class Facts:
    """How a kind's records are shown and edited one fact at a time on their page."""

    facts: Sequence[Fact]  # the built-in ones, in order; its custom fields follow
    form: type[forms.Form]  # the full edit form, with a hidden `version` field
    # initial(record, form) -> the record's values as the full edit form shows them.
    initial: Callable[[Any, type[forms.Form]], dict[str, Any]]
    # save(form, org=, by=, record=) -> the record saved through the kind's service, or None
    # when refused, with the reasons added to the form and the record's current version.
    save: Callable[..., Any]


@dataclass(frozen=True)
class Shown:
    """A fact as a page shows it, with its edit links when the member may edit it."""

    name: str
    label: str
    html: str  # escaped; "" when empty
    edit_url: str = ""  # "" when it cannot be edited here
    value_url: str = ""  # the fact shown again, as Cancel brings it back
    link: str = ""
    link_label: str = ""


# --- Facts most kinds have ------------------------------------------------------------------


def text(name: str, label: str) -> Fact:
    """A text field as it is."""
    return Fact(name, label, lambda record: escape(getattr(record, name) or ""))


def choice(name: str, label: str) -> Fact:
    """A field with choices, by its choice's label."""

    def show(record: Any) -> str:
        return escape(getattr(record, f"get_{name}_display")()) if getattr(record, name) else ""

    return Fact(name, label, show)


def lines(name: str, label: str) -> Fact:
    """A list field (other addresses), one value a line."""
    return Fact(name, label, lambda record: "<br>".join(escape(v) for v in getattr(record, name)))


def _owner(record: Any) -> str:
    return person_html(record.owner.display_name) if record.owner_id else ""


def _tags(record: Any) -> str:
    # The markup of components/_tag.html, from the tags the page read with the record.
    tags = sorted((link.tag for link in record.tag_links.all()), key=lambda t: t.name.casefold())
    return "".join(
        f'<span class="tag tag--{escape(tag.color)}">{escape(tag.name)}</span>' for tag in tags
    )


def _added(record: Any) -> str:
    return escape(date_format(timezone.localtime(record.created_at), "j M Y"))


OWNER = Fact("owner", "Owner", _owner)
TAGS = Fact("tags", "Tags", _tags)
ADDED = Fact("added", "Added", _added, fields=())


# --- Custom fields and the page ---------------------------------------------------------------


def _custom(field: CustomField) -> Fact:
    def show(record: Any) -> str:
        text = display(field, record.custom.get(field.key))
        if field.kind == CustomField.Kind.LONG_TEXT:
            return linebreaksbr(text, autoescape=True)
        return escape(text)

    def link(record: Any, org_slug: str) -> str:
        return display(field, record.custom.get(field.key))

    url = link if field.kind == CustomField.Kind.URL else None
    return Fact(f"custom_{field.key}", field.label, show, link=url, link_label="Open")


def fact_list(kind: "Kind") -> list[Fact]:
    """The kind's facts in the order its page shows them: built-in, then custom."""
    assert kind.facts is not None, f"{kind.nouns} are not edited one fact at a time"
    custom = [_custom(field) for field in definitions(kind.key)] if kind.custom_fields else []
    return [*kind.facts.facts, *custom]


def fact_named(kind: "Kind", name: str) -> Fact | None:
    """The kind's editable fact called `name`, or None."""
    found = next((fact for fact in fact_list(kind) if fact.name == name), None)
    return found if found is not None and found.form_fields else None


def editable(kind: "Kind", membership: "Membership", record: Any) -> bool:
    """Whether the record's page offers to edit its facts: the member may edit it (as its full
    edit decides), and its personal data was not erased (its service would refuse)."""
    erased = bool(kind.erased_field and getattr(record, kind.erased_field))
    return can(membership, kind.action("edit"), record) and not erased


def shown(kind: "Kind", fact: Fact, record: Any, org_slug: str, edit: bool) -> Shown:
    """One fact as its page shows it; with its edit links if `edit` and a form changes it."""
    link = fact.link(record, org_slug) if fact.link else ""
    edit = edit and bool(fact.form_fields)
    return Shown(
        name=fact.name, label=fact.label, html=SafeString(fact.show(record)),  # nosec B703  # each show() escapes
        edit_url=kind.url("field", org_slug, record.pk, fact.name) if edit else "",
        value_url=kind.url("field_value", org_slug, record.pk, fact.name) if edit else "",
        link=link, link_label=fact.link_label if link else "",
    )  # fmt: skip


@dataclass(frozen=True)
class Page:
    """A record's facts for its page: those with a value, and the empty ones, folded."""

    filled: list[Shown]
    empty: list[Shown]


def record_facts(kind: "Kind", record: Any, membership: "Membership") -> Page:
    """The record's facts as its page shows them, editable where the member may."""
    edit = editable(kind, membership, record)
    every = [
        shown(kind, fact, record, membership.org.slug, edit) for fact in fact_list(kind)
        if not fact.action or can(membership, fact.action)
    ]  # fmt: skip
    return Page(filled=[f for f in every if f.html], empty=[f for f in every if not f.html])


def fact_form(kind: "Kind", fact: Fact, record: Any, data: Any = None) -> forms.Form:
    """The kind's full edit form cut to this fact's fields (and the version it was opened
    on). Checks that read another field find the record's value in `initial`."""
    assert kind.facts is not None
    initial = kind.facts.initial(record, kind.facts.form)
    form = kind.facts.form(data, initial=initial, auto_id=f"id_{fact.name}-%s")
    kept = (*fact.form_fields, "version")
    form.fields = {name: field for name, field in form.fields.items() if name in kept}
    first = form.fields[fact.form_fields[0]]
    first.widget.attrs["autofocus"] = True  # htmx focuses it once swapped in
    return form


def fact_save(
    kind: "Kind", form: forms.Form, *, org: "Organization", by: "User", record: Any
) -> Any:
    """Save the fact's form through the kind's service: the record, or None when refused."""
    assert kind.facts is not None
    return kind.facts.save(form, org=org, by=by, record=record)
