"""One row of every tenant model, and the URL keyword each model's id fills.

A new tenant model or a new URL keyword is added here; the isolation tests fail until it is,
so no table or URL escapes them.
"""

from typing import Any

from django.apps import apps
from django.db import models

from contacts import services as contact_services
from contacts.models import Company, CompanyTag, ConsentEvent, Contact, ContactTag, SearchWord, Tag
from crm import services
from crm.models import AuditEvent, Invitation, Membership, Organization, Team, TeamMember, User
from crm.records import exports
from crm.records.models import (
    CustomField,
    DuplicatePair,
    ExportJob,
    ImportChange,
    ImportJob,
    Merge,
    SavedView,
)
from crm.tenancy import TenantModel, activate
from tests.factories import merge

# URL keyword -> the model whose id it takes.
URL_KWARGS: dict[str, type[models.Model]] = {
    "membership_id": Membership,
    "invitation_id": Invitation,
    "team_id": Team,
    "contact_id": Contact,
    "company_id": Company,
    "export_id": ExportJob,
    "field_id": CustomField,
    "view_id": SavedView,
    "pair_id": DuplicatePair,
    "merge_id": Merge,
    "import_id": ImportJob,
}


def tenant_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if issubclass(m, TenantModel) and not m._meta.proxy]


def seed_rows(org: Organization, admin: User) -> dict[type[models.Model], Any]:
    """Make one row of every tenant model in `org`, through the services that write them."""
    with activate(org):
        membership = Membership.objects.get(user=admin)
        team = services.team_save(
            org=org, by=admin, name=f"{org.name} Secret Team", lead=membership, members=[]
        )
        invitation = services.invitation_create(
            org=org, email=f"invitee@{org.slug}.test", role="rep", by=membership,
            accept_url_for=lambda invitation: "http://testserver/",
        )  # fmt: skip
        (tag,) = contact_services.tags_by_name(org=org, names=[f"{org.name} VIP"], by=admin)
        company = contact_services.company_create(
            org=org, by=admin, name=f"{org.name} Secret Client", tags=[tag]
        )
        contact = contact_services.contact_create(
            org=org, by=admin, first_name=org.name, last_name="Secret",
            email=f"secret@{org.slug}.test", company=company, tags=[tag],
        )  # fmt: skip
        contact_services.contact_set_consent(
            org=org, contact=contact, purpose="email_marketing", granted=True, how="web form",
            by=admin,
        )  # fmt: skip
        export = exports.export_job_create(
            org=org, by=admin, record_kind="contact", fmt="csv", query="q=secret"
        )
        custom_field = CustomField.objects.create(
            org=org, record_kind="contact", key="secret_code", label=f"{org.name} Secret Code",
            kind="text",
        )  # fmt: skip
        saved_view = SavedView.objects.create(
            org=org, owner=admin, record_kind="contact", name=f"{org.name} Secret View"
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
            contact_services.contact_create(
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
            reason="email",
            score=1,
        )  # fmt: skip
        merged = merge(org=org, survivor=contact, others=[twins[1]], values={}, by=admin)
        return {
            DuplicatePair: pair,
            Merge: merged,
            ImportJob: import_job,
            ImportChange: import_change,
            CustomField: custom_field,
            SavedView: saved_view,
            # Added by the database with the contact: the words a misspelt search matches.
            SearchWord: SearchWord.objects.get(word="secret"),
            Tag: tag,
            Company: company,
            CompanyTag: CompanyTag.objects.get(company=company),
            Contact: contact,
            ContactTag: ContactTag.objects.get(contact=contact),
            ConsentEvent: ConsentEvent.objects.get(contact=contact),
            Membership: membership,
            Team: team,
            TeamMember: TeamMember.objects.get(team=team),
            Invitation: invitation,
            AuditEvent: AuditEvent.objects.first(),
            ExportJob: export,
        }


def snapshot(org: Organization) -> dict[str, list[dict[str, object]]]:
    """Every tenant row of `org`, to prove that nothing changed."""
    with activate(org):
        return {
            model._meta.label: list(model._default_manager.order_by("pk").values())
            for model in tenant_models()
        }
