"""Privacy requests and merges: the contacts merged into a contact are the same person.

A merged record is kept, with its own values, until the nightly purge so that its merge
can be undone. The export of a contact's personal data includes the records merged into
it, and its erasure erases them too, with what their merges kept; registered from
ContactsConfig.ready().
"""

from typing import Any, cast

from django.db.models import Q

from contacts import privacy
from contacts.models import Contact
from crm.audit import ERASED
from crm.records.models import Merge


def _merged_ids(contact: Contact) -> list[int]:
    """The contacts merged into `contact`, directly or into one merged into it since."""
    found: list[int] = []
    level = [contact.pk]
    while level:
        # A record merged away takes part in no later merge: the chains have no loop.
        level = list(Contact.objects.filter(merged_into__in=level).values_list("pk", flat=True))
        found += level
    return found


def merged_records_data(contact: Contact) -> list[dict[str, Any]]:
    """The export's part for the records merged into the contact: each one's own fields,
    what it was merged into, and its History."""
    found = Contact.objects.filter(pk__in=_merged_ids(contact)).order_by("pk")
    records = cast(list[Contact], list(found))
    return [
        {**privacy.contact_profile(record), "merged_into": record.merged_into_id,
         "audit_events": privacy.contact_history(record)}
        for record in records
    ]  # fmt: skip


def merged_records_erase(contact: Contact) -> None:
    """Erase the records merged into the contact, and redact the values kept by the merges
    into it or into them; undoing those merges is refused from then on."""
    merged = _merged_ids(contact)
    if merged:
        privacy.contacts_anonymise(merged)
    ids = [contact.pk, *merged]
    merges = list(
        Merge.objects.filter(record_kind="contact").filter(
            Q(survivor_id__in=ids) | Q(merged_ids__overlap=ids)
        )
    )
    for merge in merges:
        merge.changes = {field: [ERASED, ERASED] for field in merge.changes}
        # The rows an undo would recreate: no undo will.
        merge.moved = {key: {**done, "deleted": []} for key, done in merge.moved.items()}
    Merge.objects.bulk_update(merges, ["changes", "moved"])
