"""Contacts' isolation seeder: one row of each tenant model contacts write, in an
organisation, through the services; with them, the rows the platform keeps about contacts
(an export, an import, a saved view, a custom field, a pair of duplicates, a merge)."""

from datetime import timedelta
from typing import Any

from django.db import models
from django.utils import timezone

from contacts import services
from contacts.models import (
    Company,
    CompanyTag,
    ConsentEvent,
    Contact,
    ContactScore,
    ContactTag,
    SearchWord,
    Segment,
    SegmentMember,
    SegmentRun,
    SegmentSpell,
    Tag,
)
from contacts.records import CONTACT
from contacts.segments import services as segments
from crm.models import Organization, User
from crm.records import custom_fields, exports, merging, saved_views
from crm.records.models import (
    CustomField,
    DuplicatePair,
    ExportJob,
    ImportChange,
    ImportJob,
    Merge,
    SavedView,
)

# URL keyword -> the model whose id it takes.
URL_KWARGS: dict[str, type[models.Model]] = {
    "contact_id": Contact,
    "company_id": Company,
    "export_id": ExportJob,
    "field_id": CustomField,
    "view_id": SavedView,
    "pair_id": DuplicatePair,
    "merge_id": Merge,
    "import_id": ImportJob,
    "segment_id": Segment,
}


def seed(org: Organization, admin: User) -> dict[type[models.Model], Any]:
    """Run with `org` active; `admin` is one of its admins."""
    (tag,) = services.tags_by_name(org=org, names=[f"{org.name} VIP"], by=admin)
    company = services.company_create(
        org=org, by=admin, name=f"{org.name} Secret Client", tags=[tag]
    )
    contact = services.contact_create(
        org=org, by=admin, first_name=org.name, last_name="Secret",
        email=f"secret@{org.slug}.test", company=company, tags=[tag],
    )  # fmt: skip
    services.contact_set_consent(
        org=org, contact=contact, purpose="email_marketing", granted=True, how="web form",
        by=admin,
    )  # fmt: skip
    export = exports.export_job_create(
        org=org, by=admin, record_kind="contact", fmt="csv", query="q=secret"
    )
    field = custom_fields.custom_field_save(
        org=org, by=admin, record_kind="contact", key="secret_code",
        label=f"{org.name} Secret Code", kind="text", choices=[],
    )  # fmt: skip
    view = saved_views.saved_view_save(
        org=org, by=admin, record_kind="contact", name=f"{org.name} Secret View", shared=False
    )
    import_job = ImportJob.objects.create(
        org=org, record_kind="contact", file=f"{org.pk}/imports/secret.csv",
        file_name=f"{org.name} secret.csv", format="csv", created_by=admin,
    )  # fmt: skip
    import_change = ImportChange.objects.create(
        org=org, job=import_job, record_kind="contact", record_id=contact.pk, created=True
    )
    # Two more with the secret address: one listed as a duplicate, one merged.
    twins = [
        services.contact_create(
            org=org,
            by=admin,
            first_name=org.name,
            last_name=f"Secret {n}",
            email=f"secret@{org.slug}.test",
        )
        for n in (2, 3)
    ]
    pair = DuplicatePair.objects.create(
        org=org, record_kind="contact", first_id=contact.pk, second_id=twins[0].pk,
        reason="email", score=1,
    )  # fmt: skip
    merge = merging.records_merge(
        org=org, kind=CONTACT, survivor=contact, others=[twins[1]], values={}, by=admin
    )
    # A segment of the tagged, refreshed: its member and the run; and a time the member was
    # in it before, as a refresh writes it when one leaves.
    segment = segments.segment_save(
        org=org, by=admin, name=f"{org.name} Secret Segment",
        rules_tree={"match": "all", "rules": [{"field": "tags", "op": "has", "value": tag.pk}]},
    )  # fmt: skip
    segments.segment_refresh(org=org, segment_id=segment.pk, by=admin)
    left_at = timezone.now() - timedelta(days=2)
    entered_at = left_at - timedelta(days=30)
    SegmentSpell.objects.create(org=org, segment=segment, contact=contact,
                                entered_at=entered_at, left_at=left_at)  # fmt: skip
    # Its scores, as the nightly job writes them (contacts.scores).
    score = ContactScore.objects.create(
        org=org, contact=contact, engagement=42, engagement_points=8.4, scored_at=timezone.now()
    )
    return {
        ContactScore: score,
        Segment: segment,
        SegmentMember: SegmentMember.objects.get(segment=segment),
        SegmentSpell: SegmentSpell.objects.get(segment=segment),
        SegmentRun: SegmentRun.objects.get(segment=segment),
        Tag: tag,
        Company: company,
        CompanyTag: CompanyTag.objects.get(company=company),
        Contact: contact,
        ContactTag: ContactTag.objects.get(contact=contact),
        ConsentEvent: ConsentEvent.objects.get(contact=contact),
        # Added by the database with the contact: the words a misspelt search matches.
        SearchWord: SearchWord.objects.get(word="secret"),
        ExportJob: export,
        CustomField: field,
        SavedView: view,
        ImportJob: import_job,
        ImportChange: import_change,
        DuplicatePair: pair,
        Merge: merge,
    }
