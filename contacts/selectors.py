"""Reads of contacts and companies: the records a member may see."""

from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import QuerySet

from contacts.models import Company, Contact
from crm.models import Membership, Organization
from crm.records.imports.fields import domain as website_domain
from crm.selectors import person_fields_unshown

# Kept by PostgreSQL for search, read by no page: never loaded with the rows.
SEARCH_COLUMNS = ("search_vector", "search_text")


def contact_list(membership: Membership) -> QuerySet[Contact]:
    """The contacts this member may see, with what a row of the list shows (the company's
    name is copied on the contact: its row needs no join; the tags of a page's rows are
    read for all of them at once, crm.records.columns.prepare)."""
    found = Contact.objects.alive().visible_to(membership)
    found = found.select_related("owner").defer(*SEARCH_COLUMNS, *person_fields_unshown("owner"))
    return cast(QuerySet[Contact], found)


def company_list(membership: Membership) -> QuerySet[Company]:
    """The companies this member may see, with what a row of the list shows."""
    found = Company.objects.alive().visible_to(membership)
    found = found.select_related("owner").defer("search_text", *person_fields_unshown("owner"))
    return cast(QuerySet[Company], found)


def contact_with_email(membership: Membership, email: str) -> Contact | None:
    """The member's live contact with this address, if there is one: what a new contact
    with it would most likely duplicate (a form sent twice, by the Back button)."""
    email = email.strip().lower()
    return contact_list(membership).filter(email=email).order_by("pk").first() if email else None


def company_with_domain(membership: Membership, domain: str) -> Company | None:
    """The member's live company at this website domain, as people paste it, if any."""
    try:
        domain = website_domain(domain) if domain.strip() else ""
    except ValidationError:
        return None
    return company_list(membership).filter(domain=domain).order_by("pk").first() if domain else None


def contact_by_address(address: str) -> Contact | None:
    """The live contact with this address (addresses are stored lower-cased): the one whose
    primary address it is first, then one that has it among its others; the oldest when
    several have it. Two indexed queries (see contacts_with_other_addresses)."""
    alive = cast(QuerySet[Contact], Contact.objects.alive().select_related("company"))
    alive = alive.defer(*SEARCH_COLUMNS, "company__search_text").order_by("pk")
    found = alive.filter(email=address).first()
    if found is None:
        found = contacts_with_other_addresses(alive, [address]).first()
    return cast(Contact | None, found)


# What filing a message reads of the contact it is from (a support queue's ticket names its
# requester and their company), by their primary address in one plain query: its ORM form
# cost more to build than to run (interactions.inbound files every message through it).
_BY_EMAIL_BRIEF = """
    SELECT c.id, c.company_id, c.email, c.first_name, c.last_name, c.owner_id, co.name
    FROM contacts_contact c LEFT JOIN contacts_company co ON co.id = c.company_id
    WHERE c.org_id = %s AND c.email = %s AND c.deleted_at IS NULL
    ORDER BY c.id LIMIT 1
"""
_BRIEF = ("email", "first_name", "last_name", "owner_id", "deleted_at", "company__name")


def contacts_brief() -> QuerySet[Contact]:
    """The live contacts with the few fields contact_by_address_brief reads; the others are
    read when asked for."""
    alive = cast(QuerySet[Contact], Contact.objects.alive().select_related("company"))
    return alive.only("org_id", "company_id", "company__org_id", *_BRIEF)


def contact_by_address_brief(org: Organization, address: str) -> Contact | None:
    """contact_by_address, loading only what filing a message reads: the primary address
    in plain SQL, then the other addresses as contact_by_address does."""
    with connection.cursor() as cursor:
        cursor.execute(_BY_EMAIL_BRIEF, [org.pk, address])
        found = cursor.fetchone()
    if found is None:
        others = contacts_with_other_addresses(contacts_brief().order_by("pk"), [address])
        return cast(Contact | None, others.first())
    pk, company_id, email, first_name, last_name, owner_id, company_name = found
    contact = _loaded(Contact, id=pk, org_id=org.pk, company_id=company_id, email=email,
                      first_name=first_name, last_name=last_name, owner_id=owner_id,
                      deleted_at=None)  # fmt: skip
    if company_id is not None:
        contact.company = _loaded(Company, id=company_id, org_id=org.pk, name=company_name)
    return contact


def _loaded(model: type[Any], **values: Any) -> Any:
    """A row read by hand as the ORM would load it with only these fields (the others are
    read if asked for, and a save writes only these): from_db takes the values in the
    order of the model's fields."""
    fields = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db("default", fields, [values[name] for name in fields])


def contacts_with_other_addresses(
    contacts: QuerySet[Contact], addresses: list[str]
) -> QuerySet[Contact]:
    """These contacts, among those with one of `addresses` as another address of theirs:
    through crm_contacts_by_other_email (contacts migration 0016), which reads the GIN
    index past the policy, since array overlap is no index condition under it."""
    # The ids first, then the rows by primary key: as a subquery, the planner cannot tell
    # how few the function returns, and reads the organisation's contacts to join them.
    with connection.cursor() as cursor:
        cursor.execute("SELECT crm_contacts_by_other_email(%s::text[])", [list(addresses)])
        ids = [pk for (pk,) in cursor.fetchall()]
    return contacts.filter(pk__in=ids) if ids else contacts.none()
