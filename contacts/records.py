"""Contacts and companies as record kinds: everything the platform's lists, bulk actions,
exports, imports, duplicates and merges need to know about them, declared once."""

from collections.abc import Sequence
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString

from contacts import duplicates, imports, selectors, services
from contacts.filters import CompanyFilter, ContactFilter
from contacts.forms import (
    CompanyForm,
    ContactForm,
    company_form_save,
    contact_form_save,
    initial_for,
)
from contacts.models import Company, CompanyTag, Contact, ContactTag
from crm.records import bulk
from crm.records import columns as c
from crm.records import facts as f
from crm.records.duplicates import DuplicateSpec
from crm.records.merging import MergeSpec
from crm.records.registry import Kind, Tags
from crm.templatetags.crm_tags import phone

# --- Columns ------------------------------------------------------------------------------


# Cells are written with f-strings and html.escape: a page of 50 rows renders hundreds
# (crm.records.columns).


@c.reading("first_name", "last_name", "email", "job_title")
def _contact_name(contact: Contact, row: c.Row) -> SafeString:
    url = row.link("contacts:detail", contact.pk)
    link = f'<a href="{url}">{escape(contact.name or contact.email)}</a>'
    # Bandit B703 here and below: every value in the markup is escaped with html.escape
    # (quotes too); the links are reversed URLs of the record's own page.
    if contact.job_title and "job_title" not in row.keys:
        title = escape(contact.job_title)
        return SafeString(f'{link}<span class="cell-sub" title="{title}">{title}</span>')  # nosec B703
    return SafeString(link)  # nosec B703  # the name escaped above; the URL a reversed path


@c.reading("email")
def _email(contact: Contact, row: c.Row) -> SafeString | str:
    if not contact.email:
        return ""
    email = escape(contact.email)
    return SafeString(f'<a href="mailto:{email}" title="{email}">{email}</a>')  # nosec B703  # escaped


_lifecycle = c.choice("lifecycle")


@c.reading("lifecycle")
def _stage(contact: Contact, row: c.Row) -> SafeString:
    return SafeString(  # nosec B703  # the label escaped
        f'<span class="badge badge--neutral">{escape(_lifecycle(contact, row))}</span>'
    )


@c.reading("domain")
def _domain(company: Company, row: c.Row) -> SafeString | str:
    if not company.domain:
        return ""
    domain = escape(company.domain)
    # Bandit B703: the domain is escaped, and the link's scheme is always https.
    return SafeString(f'<a href="https://{domain}" rel="noopener noreferrer">{domain}</a>')  # nosec B703


@c.reading("next_step", "next_step_at")
def _next_step(contact: Contact, row: c.Row) -> SafeString | str:
    """The contact's next open task, and when it is due (late ones marked)."""
    if not contact.next_step:
        return ""
    title = escape(contact.next_step)
    if contact.next_step_at is None:
        return SafeString(f'<span title="{title}">{title}</span>')  # nosec B703  # escaped
    late = ' class="is-overdue"' if contact.next_step_at < timezone.now() else ""
    when = escape(c.short_date(contact.next_step_at))
    return SafeString(  # nosec B703  # escaped
        f'<span title="{title}">{title}</span><span class="cell-sub"{late}>{when}</span>'
    )


def _next_step_export(contact: Contact, zone: ZoneInfo) -> list[str]:
    due = contact.next_step_at
    return [contact.next_step, due.astimezone(zone).isoformat(timespec="seconds") if due else ""]


CONTACT_COLUMNS = [
    # First and last name apart, as an import reads them.
    c.Column("name", "Name", _contact_name, lambda contact, zone: [contact.first_name,
             contact.last_name], headers=("First name", "Last name"), sort="name", width="lg"),
    c.Column("email", "Email", _email, c.plain("email"), sort="email", card="fact"),
    c.Column("phone", "Phone", lambda contact, row: phone(contact.phone), c.plain("phone"),
             css="nowrap", reads=("phone",), width="sm"),
    c.Column("company", "Company", c.text("company_name"), c.plain("company_name"),
             sort="company", card="fact"),
    c.Column("stage", "Stage", _stage, c.choice_label("lifecycle"), sort="lifecycle", width="md",
             card="chip"),
    c.OWNER,
    c.TAGS,
    c.created(),
    c.Column("job_title", "Job title", c.text("job_title"), c.plain("job_title")),
    c.Column("source", "Source", c.text("source"), c.plain("source")),
    c.Column("country", "Country", c.text("country"), c.plain("country")),
    c.Column("city", "City", c.text("city"), c.plain("city")),
    c.Column("last_interaction", "Last contacted", c.day("last_interaction_at"),
             c.iso("last_interaction_at"), sort="last_interaction", css="nowrap",
             width="sm", card="fact"),
    c.Column("next_step", "Next step", _next_step, _next_step_export,
             headers=("Next step", "Next step due"), sort="next_step", width="lg"),
]  # fmt: skip

COMPANY_COLUMNS = [
    c.Column("name", "Name", c.link("name", "contacts:company_detail"), c.plain("name"),
             sort="name", width="lg"),
    c.Column("domain", "Domain", _domain, c.plain("domain"), sort="domain", card="fact"),
    c.Column("industry", "Industry", c.text("industry"), c.plain("industry"), sort="industry",
             card="fact"),
    c.Column("size", "Size", c.choice("size"), c.choice_label("size"), css="nowrap",
             width="sm", card="chip"),
    c.OWNER,
    c.Column("country", "Country", c.text("country"), c.plain("country")),
    c.TAGS,
    c.created(),
    c.Column("last_interaction", "Last interaction", c.day("last_interaction_at"),
             c.iso("last_interaction_at"), sort="last_interaction", css="nowrap",
             width="sm"),
]  # fmt: skip


# --- Merges -------------------------------------------------------------------------------

_LABELS = {"lifecycle": "Stage", "external_id": "External ID", "postal_code": "Postcode"}
_ADDRESS = ("street", "city", "region", "postal_code", "country", "external_id")


def _contact_company_name(contact: Contact) -> list[str]:
    """A contact's copy of its company's name, which search reads, from the company."""
    contact.company_name = contact.company.name if contact.company else ""
    return ["company_name"]


def _contact_combined(contacts: Sequence[Contact], found: dict[str, Any]) -> dict[str, Any]:
    """What a merged contact keeps of everyone without a choice: the other addresses and
    numbers, the latest consent per purpose, the latest interaction."""
    emails = {e for c in contacts for e in [c.email, *c.other_emails] if e} - {found["email"]}
    phones = [p for c in contacts for p in [c.phone, *c.other_phones] if p]
    consent: dict[str, Any] = {}
    for contact in contacts:
        for purpose, state in contact.consent.items():
            latest = consent.get(purpose, {})
            if purpose not in consent or str(state.get("at", "")) > str(latest.get("at", "")):
                consent[purpose] = state
    times = [c.last_interaction_at for c in contacts if c.last_interaction_at]
    return {
        "other_emails": sorted(emails),
        "other_phones": [p for p in dict.fromkeys(phones) if p != found["phone"]],
        "consent": consent,
        "last_interaction_at": max(times) if times else None,
    }


def _contact_check(found: dict[str, Any]) -> None:
    if not (found["first_name"] or found["last_name"] or found["email"]):
        raise ValidationError({"first_name": "Keep at least a name or an email address."})


def _company_check(found: dict[str, Any]) -> None:
    if not found["name"]:
        raise ValidationError({"name": "Keep a name for the company."})


def _company_names_again(company_ids: Sequence[int]) -> None:
    """Copy each company's name onto its contacts again (search reads it from there)."""
    name = Company.objects.filter(pk=OuterRef("company_id")).values("name")[:1]
    Contact.objects.filter(company_id__in=company_ids).update(company_name=Subquery(name))


CONTACT_MERGE = MergeSpec(
    fields=(
        "first_name", "last_name", "email", "phone", "job_title", "company", "lifecycle",
        "owner", "source", "preferred_channel", "language", *_ADDRESS,
    ),
    labels=_LABELS,
    derived=frozenset({"company_name"}),
    derive=_contact_company_name,
    combine=_contact_combined,
    check=_contact_check,
    moves="tags, consent history",
    note="Every email address and phone number is kept: those not chosen become other "
    "addresses and numbers. Consent keeps, per purpose, the latest given or withdrawn.",
)  # fmt: skip

COMPANY_MERGE = MergeSpec(
    fields=("name", "domain", "industry", "size", "owner", *_ADDRESS),
    labels=_LABELS,
    check=_company_check,
    after=_company_names_again,
    moves="tags, contacts",
)


# --- Facts on their pages ------------------------------------------------------------------


def _show_email(contact: Contact) -> str:
    return escape(contact.email)


def _mail_to(contact: Contact, org_slug: str) -> str:
    return f"mailto:{contact.email}" if contact.email else ""


def _show_phone(contact: Contact) -> str:
    return escape(phone(contact.phone))


def _call(contact: Contact, org_slug: str) -> str:
    return f"tel:{contact.phone}" if contact.phone else ""


def _show_other_phones(contact: Contact) -> str:
    return "<br>".join(escape(phone(number)) for number in contact.other_phones)


def _show_company(contact: Contact) -> str:
    return escape(contact.company_name) if contact.company_id else ""


def _company_page(contact: Contact, org_slug: str) -> str:
    if not contact.company_id:
        return ""
    return reverse("contacts:company_detail", args=[org_slug, contact.company_id])


def _show_stage(contact: Contact) -> str:
    return f'<span class="badge badge--neutral">{escape(contact.get_lifecycle_display())}</span>'


def _show_consent(contact: Contact) -> str:
    return " ".join(
        f'<span class="badge badge--{"success" if state.get("granted") else "neutral"}">'
        f"{escape(purpose.replace('_', ' ').capitalize())}: "
        f"{'yes' if state.get('granted') else 'no'}</span>"
        for purpose, state in contact.consent.items()
    )


def _show_address(record: Contact | Company) -> str:
    town = " ".join(part for part in (record.postal_code, record.city) if part)
    town = ", ".join(part for part in (town, record.region) if part)
    return "<br>".join(escape(line) for line in (record.street, town, record.country) if line)


def _website(company: Company, org_slug: str) -> str:
    return f"https://{company.domain}" if company.domain else ""


_ADDRESS_FACT = f.Fact("address", "Address", _show_address, fields=(
    "street", "postal_code", "city", "region", "country",
))  # fmt: skip

CONTACT_FACTS = f.Facts(
    facts=(
        f.text("first_name", "First name"),
        f.text("last_name", "Last name"),
        f.Fact("email", "Email", _show_email, link=_mail_to, link_label="Write"),
        f.lines("other_emails", "Other emails"),
        f.Fact("phone", "Phone", _show_phone, link=_call, link_label="Call"),
        f.Fact("other_phones", "Other phones", _show_other_phones),
        f.text("job_title", "Job title"),
        f.Fact("company", "Company", _show_company, link=_company_page, link_label="Open"),
        f.Fact("lifecycle", "Stage", _show_stage),
        f.OWNER,
        f.text("source", "Source"),
        f.choice("preferred_channel", "Preferred channel"),
        f.text("language", "Language"),
        _ADDRESS_FACT,
        f.TAGS,
        f.Fact("consent", "Consent", _show_consent, fields=()),
        f.ADDED,
    ),
    form=ContactForm,
    initial=initial_for,
    save=contact_form_save,
)

COMPANY_FACTS = f.Facts(
    facts=(
        f.text("name", "Name"),
        f.Fact("domain", "Domain", lambda company: escape(company.domain), link=_website,
               link_label="Visit"),
        f.text("industry", "Industry"),
        f.choice("size", "Size"),
        f.OWNER,
        _ADDRESS_FACT,
        f.TAGS,
        f.ADDED,
    ),
    form=CompanyForm,
    initial=initial_for,
    save=company_form_save,
)  # fmt: skip


# --- The kinds ----------------------------------------------------------------------------

CONTACT_TAGS = Tags(link=ContactTag, field="contact", by_name=services.tags_by_name)
COMPANY_TAGS = Tags(link=CompanyTag, field="company", by_name=services.tags_by_name)


def _static_segments() -> list[tuple[str, str]]:
    """The static segments, the choices of "Add to segment": read when the toolbar or the
    action asks, since they are the organisation's and change."""
    from contacts.segments.selectors import static_segment_choices
    from crm.tenancy import current_org

    # Outside an organisation (a declaration read at start), there are none.
    return static_segment_choices() if current_org() is not None else []


def _add_to_segment(*, org: Any, by: Any, kind: Any, ids: list[int], value: str) -> int:
    from contacts.models import Segment
    from contacts.segments import services as segments

    segment = Segment.objects.filter(pk=int(value), kind=Segment.Kind.STATIC,
                                     deleted_at__isnull=True).first()  # fmt: skip
    if segment is None:
        raise ValidationError("Choose a static segment: a dynamic one follows its rules.")
    return segments.segment_add(org=org, by=by, segment=segment,
                                contacts=Contact.objects.filter(pk__in=ids))  # fmt: skip


# A static segment takes the selected contacts (the ones already in it stay as they are).
ADD_TO_SEGMENT = bulk.BulkAction(
    "add_to_segment", "Add to segment", _add_to_segment, field="to_segment",
    field_label="Segment", value="choice", choices=_static_segments, noun="static segment",
    permission="segment.edit",
    none_yet="There is no static segment yet: make one under Segments → New segment, "
    "then add contacts to it here.",
)  # fmt: skip


CONTACT = Kind(
    key="contact",
    model=Contact,
    noun="contact",
    nouns="contacts",
    url_prefix="contacts",
    visible=selectors.contact_list,
    filterset=ContactFilter,
    columns=CONTACT_COLUMNS,
    # What fits 1280 px without a sideways scroll; the chooser adds the rest. When each was
    # last contacted and what comes next are on every row: the phone and the stage are a
    # click away in the chooser (and on the contact's page).
    default_columns=("name", "email", "company", "owner", "last_interaction", "next_step"),
    export_columns=("name", "email", "phone", "company", "stage", "owner", "tags", "created"),
    default_order=("last_name", "first_name"),
    detail_url="contacts:detail",
    new_url="contacts:new",
    row_reads=("first_name", "last_name", "email"),
    empty_text="Add the people you sell to and support.",
    searchable=True,
    erased_field="erased_at",
    custom_fields=True,
    tags=CONTACT_TAGS,
    bulk_actions=(
        bulk.ASSIGN_OWNER,
        bulk.ADD_TAG,
        bulk.REMOVE_TAG,
        bulk.set_field(
            "change_lifecycle",
            "Change stage",
            "lifecycle",
            "Stage",
            Contact.Lifecycle.choices,
            "lifecycle stage",
        ),
        ADD_TO_SEGMENT,
        bulk.TRASH,
    ),
    purge=services.contacts_purge,
    imports=imports.CONTACTS,
    merge=CONTACT_MERGE,
    facts=CONTACT_FACTS,
    duplicates=DuplicateSpec(
        reasons=duplicates.CONTACT_REASONS,
        find=duplicates.contact_duplicates_find,
        describe=duplicates.contact_line,
        explain="Contacts with the same email address or phone number, or a similar name "
        "at the same company",
    ),
)

COMPANY = Kind(
    key="company",
    model=Company,
    noun="company",
    nouns="companies",
    url_prefix="companies",
    visible=selectors.company_list,
    filterset=CompanyFilter,
    columns=COMPANY_COLUMNS,
    default_columns=("name", "domain", "industry", "size", "owner", "tags", "last_interaction"),
    export_columns=("name", "domain", "industry", "size", "owner", "tags", "created"),
    default_order=("name",),
    detail_url="contacts:company_detail",
    new_url="contacts:company_new",
    row_reads=("name",),
    empty_text="Add the organisations you sell to and support.",
    searchable=True,
    custom_fields=True,
    tags=COMPANY_TAGS,
    bulk_actions=(bulk.ASSIGN_OWNER, bulk.ADD_TAG, bulk.REMOVE_TAG, bulk.TRASH),
    purge=services.companies_purge,
    imports=imports.COMPANIES,
    merge=COMPANY_MERGE,
    facts=COMPANY_FACTS,
    duplicates=DuplicateSpec(
        reasons=duplicates.COMPANY_REASONS,
        find=duplicates.company_duplicates_find,
        describe=duplicates.company_line,
        explain="Companies with the same web domain or a similar name",
    ),
)
