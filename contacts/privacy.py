"""A contact's personal data: export it (subject access) and erase it (right to erasure).

Other apps add what they hold about a contact from their AppConfig.ready():

    register_personal_data("interactions", interactions.privacy.for_contact)
    register_erasure("interactions", interactions.privacy.erase_for_contact)

Both kinds of function take the contact and run with its organisation active; an eraser
runs inside the erasure's transaction, so a failure leaves the contact untouched.
"""

from collections.abc import Callable, Sequence
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from contacts.models import ConsentEvent, Contact, ContactTag
from crm.audit import audit_erase, audit_record
from crm.models import AuditEvent, Organization, User

PersonalData = Callable[[Contact], Any]
Eraser = Callable[[Contact], None]

ERASED_REPR = "Erased contact"
# What erasure sets: every field that says who the person is or how to reach them.
_ANONYMOUS: dict[str, Any] = {
    "first_name": "Erased", "last_name": "contact", "email": "", "other_emails": [],
    "phone": "", "other_phones": [], "street": "", "city": "", "region": "",
    "postal_code": "", "job_title": "", "source": "", "language": "", "custom": {},
    "consent": {},
}  # fmt: skip
_PROFILE = (
    "first_name", "last_name", "email", "other_emails", "phone", "other_phones", "job_title",
    "lifecycle", "source", "preferred_channel", "language", "street", "city", "region",
    "postal_code", "country", "custom", "consent",
)  # fmt: skip
# The export's own sections: a registered part may not take one of these names.
_SECTIONS = frozenset({"contact", "company", "tags", "consent_events", "audit_events"})

_personal_data: dict[str, PersonalData] = {}
_erasers: dict[str, Eraser] = {}


def register_personal_data(name: str, fn: PersonalData) -> None:
    """Add `name: fn(contact)` to every export; fn returns JSON-able data."""
    if name in _SECTIONS or _personal_data.get(name, fn) is not fn:
        raise ValueError(f"A personal data part is already called {name!r}.")
    _personal_data[name] = fn


def register_erasure(name: str, fn: Eraser) -> None:
    """Run fn(contact) in every erasure, to remove or redact what another app holds."""
    if _erasers.get(name, fn) is not fn:
        raise ValueError(f"An erasure is already called {name!r}.")
    _erasers[name] = fn


def _about(contact_ids: Sequence[int]) -> QuerySet[AuditEvent]:
    """The audit events about these contacts (the History of their pages)."""
    return AuditEvent.objects.filter(
        object_type=Contact._meta.label_lower, object_id__in=[str(pk) for pk in contact_ids]
    )


def contact_profile(contact: Contact) -> dict[str, Any]:
    """The contact's own fields, as the export shows them."""
    profile = {field: getattr(contact, field) for field in _PROFILE}
    dates = {"created_at": contact.created_at, "updated_at": contact.updated_at,
             "last_interaction_at": contact.last_interaction_at}  # fmt: skip
    profile |= {name: at.isoformat() if at else None for name, at in dates.items()}
    return {"id": contact.pk, **profile}


def contact_history(contact: Contact) -> list[dict[str, Any]]:
    """The audit events about the contact, as the export shows them."""
    return [
        {"action": e.action, "at": e.at.isoformat(), "changes": e.changes}
        for e in _about([contact.pk]).order_by("at", "pk")
    ]


def contact_personal_data(contact: Contact) -> dict[str, Any]:
    """Everything held about one contact, as JSON-able data, with the registered parts."""
    consent_events = ConsentEvent.objects.filter(contact=contact).order_by("at", "pk")
    data: dict[str, Any] = {
        "contact": contact_profile(contact),
        "company": {"name": contact.company.name} if contact.company else None,
        "tags": sorted(link.tag.name for link in contact.tag_links.all()),
        "consent_events": [
            {"purpose": e.purpose, "granted": e.granted, "how": e.how, "at": e.at.isoformat()}
            for e in consent_events
        ],
        "audit_events": contact_history(contact),
    }
    for name, fn in _personal_data.items():
        data[name] = fn(contact)
    return data


@transaction.atomic
def contact_personal_data_export(
    *, org: Organization, contact: Contact, by: User | None
) -> dict[str, Any]:
    """A contact's personal data for download, with a record that it was handed out."""
    data = {"exported_at": timezone.now().isoformat(), **contact_personal_data(contact)}
    audit_record(org=org, actor=by, action="contact.personal_data_exported", target=contact)
    return data


@transaction.atomic
def contact_erase(*, org: Organization, contact: Contact, by: User | None) -> Contact:
    """Anonymise a contact in place: the row stays, so what points at it stays valid, but
    nothing in it, its consent history, its tags or its audit trail says who it was."""
    # Locked, as contact_update locks it: an edit under way cannot write the data back.
    Contact.objects.select_for_update().filter(pk=contact.pk).first()
    for field, value in _ANONYMOUS.items():
        setattr(contact, field, value)
    contact.erased_at = timezone.now()
    contact.save(update_fields=[*_ANONYMOUS, "erased_at", "updated_at"])
    ConsentEvent.objects.filter(contact=contact).delete()
    ContactTag.objects.filter(contact=contact).delete()
    # The tags read with the contact are gone now; drop them so no caller shows them.
    getattr(contact, "_prefetched_objects_cache", {}).pop("tag_links", None)
    for fn in _erasers.values():
        fn(contact)
    _redact_history([contact.pk])
    audit_record(org=org, actor=by, action="contact.erased", target=contact)
    return contact


def contacts_anonymise(contact_ids: Sequence[int]) -> None:
    """Anonymise these contacts as contact_erase does one, in a few set-based queries:
    for the records that are the same person, such as those merged into an erased one.
    Runs inside the erasure's transaction, as a registered eraser."""
    now = timezone.now()
    Contact.objects.filter(pk__in=contact_ids).update(**_ANONYMOUS, erased_at=now, updated_at=now)
    ConsentEvent.objects.filter(contact_id__in=contact_ids).delete()
    ContactTag.objects.filter(contact_id__in=contact_ids).delete()
    _redact_history(contact_ids)


def _redact_history(contact_ids: Sequence[int]) -> None:
    # The same {field: [before, after]} shape, so the History still reads as a change.
    audit_erase(_about(contact_ids), shown_as=ERASED_REPR)
