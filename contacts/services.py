"""Writes to contacts, companies and tags. Every one is audited."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

import phonenumbers
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models.functions import Lower

from contacts.models import Company, CompanyTag, ConsentEvent, Contact, ContactTag, Tag
from crm.audit import audit_record, diff
from crm.models import Organization, User
from crm.records.custom_fields import clean_custom
from crm.records.imports.fields import country as country_code
from crm.records.imports.fields import domain as website_domain
from crm.records.versions import check_version

# --- Values ------------------------------------------------------------------------------


def normalise_phone(raw: str, *, country: str = "") -> str:
    """A phone number in E.164 (+442079460958); ValidationError if it is not one."""
    raw = raw.strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, country.upper() or None)
    except phonenumbers.NumberParseException as error:
        hint = "" if country else " or set the country"
        raise ValidationError(
            f"“{raw}” is not a phone number: include the country code (+44 …){hint}."
        ) from error
    if not phonenumbers.is_possible_number(number):
        raise ValidationError(f"“{raw}” has too few or too many digits for a phone number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _clean_contact_fields(fields: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    _clean_country(fields, errors)
    country = "" if "country" in errors else str(fields.get("country", "") or "")
    if "email" in fields:
        fields["email"] = (fields["email"] or "").strip().lower()
    if "other_emails" in fields:
        fields["other_emails"] = sorted({e.strip().lower() for e in fields["other_emails"] if e})
    for name in ("phone",):
        if name in fields:
            try:
                fields[name] = normalise_phone(fields[name] or "", country=country)
            except ValidationError as error:
                errors[name] = error.messages
    if "other_phones" in fields:
        try:
            fields["other_phones"] = [
                normalise_phone(p, country=country) for p in fields["other_phones"] if p
            ]
        except ValidationError as error:
            errors["other_phones"] = error.messages
    if errors:
        raise ValidationError(errors)
    return fields


def _clean_country(fields: dict[str, Any], errors: dict[str, list[str]]) -> None:
    """An ISO 3166 code, from a code (FR, FRA) or a name ("France"); "ZZ" is no country."""
    if fields.get("country"):
        try:
            fields["country"] = country_code(str(fields["country"]))
        except ValidationError as error:
            errors["country"] = error.messages


def _clean_company_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """A website domain as people paste it, reduced to the domain ("https://www.Acme.com/"
    → acme.com), and never anything a link could run (`javascript:…`); a real country."""
    errors: dict[str, list[str]] = {}
    if "domain" in fields:
        raw = (fields["domain"] or "").strip()
        try:
            fields["domain"] = website_domain(raw) if raw else ""
        except ValidationError as error:
            errors["domain"] = error.messages
    _clean_country(fields, errors)
    if errors:
        raise ValidationError(errors)
    return fields


# --- Tags --------------------------------------------------------------------------------


def tags_by_name(*, org: Organization, names: Iterable[str], by: User | None) -> list[Tag]:
    """The organisation's tags with these names, creating the missing ones."""
    wanted = list(dict.fromkeys(name.strip() for name in names if name.strip()))
    existing = Tag.objects.annotate(lower=Lower("name")).filter(
        lower__in=[n.lower() for n in wanted]
    )
    found: dict[str, Tag] = {tag.name.lower(): tag for tag in existing}
    tags: list[Tag] = []
    for name in wanted:
        tag = found.get(name.lower())
        if tag is None:
            tag = Tag.objects.create(org=org, name=name[:50])
            audit_record(org=org, actor=by, action="tag.created", target=tag)
            found[name.lower()] = tag
        tags.append(tag)
    return tags


def _set_tags(
    link: type[ContactTag] | type[CompanyTag], record: Contact | Company, tags: list[Tag]
) -> dict[str, list[list[str]]]:
    field = "contact" if link is ContactTag else "company"
    current = {t.tag_id: t for t in link.objects.filter(**{field: record}).select_related("tag")}
    wanted = {tag.pk: tag for tag in tags}
    link.objects.filter(**{field: record}).exclude(tag_id__in=wanted).delete()
    new = [link(org_id=record.org_id, tag=tag, **{field: record}) for pk, tag in wanted.items()
           if pk not in current]  # fmt: skip
    link.objects.bulk_create(new)  # type: ignore[arg-type]  # one of the two link models
    before = sorted(t.tag.name for t in current.values())
    after = sorted(t.name for t in tags)
    return {"tags": [before, after]} if before != after else {}


# --- Companies ---------------------------------------------------------------------------


@transaction.atomic
def company_create(
    *, org: Organization, by: User | None, tags: list[Tag] | None = None, **fields: Any
) -> Company:
    """Add a company."""
    fields = _clean_company_fields({"domain": "", **fields})
    if "custom" in fields:
        fields["custom"] = clean_custom("company", fields["custom"])
    company = Company(org=org, **fields)
    company.full_clean(exclude=["org", "search_text"])
    company.save()
    if tags:
        _set_tags(CompanyTag, company, tags)
    audit_record(org=org, actor=by, action="company.created", target=company)
    return company


@transaction.atomic
def company_update(
    *, org: Organization, company: Company, by: User | None, tags: list[Tag] | None = None,
    version: str | None = None, **fields: Any,
) -> Company:  # fmt: skip
    """Change a company; a new name is copied onto its contacts for search. With `version`
    (what the form was opened on), refused if the company changed since."""
    check_version(company, version, "company")
    fields = _clean_company_fields(fields)
    if "custom" in fields:
        fields["custom"] = clean_custom("company", fields["custom"], keep=company.custom)
    before = {field: getattr(company, field) for field in fields}
    for field, value in fields.items():
        setattr(company, field, value)
    company.full_clean(exclude=["org", "search_text"])
    company.save()
    changes = diff(before, fields)
    if tags is not None:
        changes |= _set_tags(CompanyTag, company, tags)
    if "name" in changes:
        Contact.objects.filter(company=company).update(company_name=company.name)
    if changes:
        audit_record(org=org, actor=by, action="company.updated", target=company, changes=changes)
    return company


# --- Contacts ----------------------------------------------------------------------------


@transaction.atomic
def contact_create(
    *, org: Organization, by: User | None, tags: list[Tag] | None = None, **fields: Any
) -> Contact:
    """Add a contact: addresses lower-cased, phone numbers in E.164."""
    fields = _clean_contact_fields(fields)
    if "custom" in fields:
        fields["custom"] = clean_custom("contact", fields["custom"])
    contact = Contact(org=org, **fields)
    if not (contact.first_name or contact.last_name or contact.email):
        raise ValidationError({"first_name": "Give at least a name or an email address."})
    contact.company_name = contact.company.name if contact.company else ""
    contact.full_clean(exclude=["org", "search_text", "search_vector"])
    contact.save()
    if tags:
        _set_tags(ContactTag, contact, tags)
    audit_record(org=org, actor=by, action="contact.created", target=contact)
    return contact


@transaction.atomic
def contact_update(
    *, org: Organization, contact: Contact, by: User | None, tags: list[Tag] | None = None,
    version: str | None = None, **fields: Any,
) -> Contact:  # fmt: skip
    """Change some of a contact's fields (and its tags), recording before and after; with
    `version` (what the form was opened on), refused if the contact changed since."""
    check_version(contact, version, "contact")
    locked = Contact.objects.select_for_update().filter(pk=contact.pk)
    if contact.erased_at or locked.values_list("erased_at", flat=True).first():
        raise ValidationError("This contact's personal data was erased; it cannot be edited.")
    if "country" not in fields and ("phone" in fields or "other_phones" in fields):
        fields["country"] = contact.country
    fields = _clean_contact_fields(fields)
    if "custom" in fields:
        fields["custom"] = clean_custom("contact", fields["custom"], keep=contact.custom)
    before = {field: getattr(contact, field) for field in fields}
    for field, value in fields.items():
        setattr(contact, field, value)
    if not (contact.first_name or contact.last_name or contact.email):
        raise ValidationError({"first_name": "Give at least a name or an email address."})
    if "company" in fields:
        contact.company_name = contact.company.name if contact.company else ""
    contact.full_clean(exclude=["org", "search_text", "search_vector"])
    contact.save()
    changes = diff(before, fields)
    if tags is not None:
        changes |= _set_tags(ContactTag, contact, tags)
    if changes:
        audit_record(org=org, actor=by, action="contact.updated", target=contact, changes=changes)
    return contact


def consent_with(
    consent: dict[str, Any], changed: dict[str, bool], *, at: datetime, how: str
) -> dict[str, Any]:
    """A contact's current consent (its `consent` column) with these purposes changed."""
    entry = {"at": at.isoformat(), "how": how}
    return {**consent, **{purpose: {"granted": g, **entry} for purpose, g in changed.items()}}


@transaction.atomic
def contact_set_consent(
    *, org: Organization, contact: Contact, purpose: str, granted: bool, how: str, by: User | None
) -> ConsentEvent:
    """Record consent given or withdrawn for one purpose; the history is kept."""
    if purpose not in ConsentEvent.Purpose.values:
        raise ValidationError(f"“{purpose}” is not a consent purpose.")
    if not how.strip():
        raise ValidationError({"how": "Say how the consent was given or withdrawn."})
    event = ConsentEvent.objects.create(
        org=org, contact=contact, purpose=purpose, granted=granted, how=how.strip(), recorded_by=by
    )
    before = contact.consent.get(purpose, {}).get("granted")
    contact.consent = consent_with(contact.consent, {purpose: granted}, at=event.at, how=event.how)
    contact.save(update_fields=["consent", "updated_at"])
    audit_record(
        org=org, actor=by, action="contact.consent_changed", target=contact,
        changes={f"consent.{purpose}": [before, granted]},
    )  # fmt: skip
    return event


# --- Trash -------------------------------------------------------------------------------


def contacts_purge(*, org: Organization, kind: Any, ids: list[int]) -> None:
    """Delete these contacts for good (crm.records.trash purges the Trash), and the search
    words only they gave."""
    expired = Contact.objects.filter(pk__in=ids)
    words = _search_words(expired)
    expired.delete()
    _forget_unused_words(org, words)


def companies_purge(*, org: Organization, kind: Any, ids: list[int]) -> None:
    """Delete these companies for good; their contacts stay, without a company."""
    Contact.objects.filter(company__in=ids).update(company=None, company_name="")
    Company.objects.filter(pk__in=ids).delete()


def _search_words(contacts: Any) -> list[str]:
    """The words these contacts give misspelt searches (contacts migration 0010)."""
    sql, params = contacts.values("search_vector").query.sql_with_params()
    with connection.cursor() as cursor:
        # Bandit B608: `sql` is the ORM's own compiled query; its values go in `params`.
        cursor.execute(
            f"SELECT DISTINCT w FROM ({sql}) AS c, crm_search_vector_words(c.search_vector) AS w",  # noqa: S608  # nosec B608
            params,
        )
        return [row[0] for row in cursor.fetchall()]


def _forget_unused_words(org: Organization, words: list[str]) -> None:
    """Drop from the organisation's search words those of `words` no contact has any more.

    Renames and erasure do this in the database's UPDATE trigger; deleting for good is left
    to the purge, which checks all its contacts' words at once (contacts migration 0011)."""
    if words:
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM contacts_searchword WHERE org_id = %s "
                "AND word IN (SELECT crm_search_words_unused(%s))",
                [org.pk, words],
            )


_RESYNC = """
WITH current AS MATERIALIZED (
    SELECT DISTINCT w FROM contacts_contact c, crm_search_vector_words(c.search_vector) AS w
    WHERE c.org_id = %(org)s
), added AS (
    INSERT INTO contacts_searchword (org_id, word)
    SELECT %(org)s, w FROM current
    WHERE NOT EXISTS (
        SELECT 1 FROM contacts_searchword s WHERE s.org_id = %(org)s AND s.word = current.w)
    RETURNING 1
), removed AS (
    DELETE FROM contacts_searchword s
    WHERE s.org_id = %(org)s AND NOT EXISTS (SELECT 1 FROM current WHERE current.w = s.word)
    RETURNING 1
)
SELECT (SELECT count(*) FROM added), (SELECT count(*) FROM removed)
"""


def search_words_resync(*, org: Organization) -> dict[str, int]:
    """Make the organisation's search words exactly the words of its contacts; safe to repeat.

    The triggers and the Trash purge keep the table in step as contacts change, but without
    locks (two writers racing over a word's last contact can leave it out), and a contact
    deleted some other way leaves its words behind: this nightly pass mends both, in one
    statement, so under one snapshot."""
    with connection.cursor() as cursor:
        cursor.execute(_RESYNC, {"org": org.pk})
        added, removed = cursor.fetchone()
    return {"added": added, "removed": removed}


def company_for_name(*, org: Organization, name: str, by: User | None) -> Company | None:
    """The company called `name` (any case), created when there is none; None for ''."""
    name = name.strip()
    if not name:
        return None
    found = Company.objects.alive().filter(name__iexact=name).order_by("pk").first()
    return cast(Company | None, found) or company_create(org=org, by=by, name=name)


@transaction.atomic
def contact_save(
    *, org: Organization, by: User | None, contact: Contact | None = None,
    company_name: str | None = None, tag_names: list[str] | None = None, **fields: Any,
) -> Contact:  # fmt: skip
    """Create or update a contact as a form gives it: the company by name (created when new)
    and tags by name; None leaves them as they are (a form for another field). One
    transaction: a refused contact leaves no company or tag behind."""
    version = fields.pop("version", None)
    if contact is not None:
        check_version(contact, version, "contact")  # before a company is made for it
    if company_name is not None:
        fields["company"] = company_for_name(org=org, name=company_name, by=by)
    tags = None if tag_names is None else tags_by_name(org=org, names=tag_names, by=by)
    if contact is None:
        return contact_create(org=org, by=by, tags=tags, **fields)
    return contact_update(org=org, contact=contact, by=by, tags=tags, **fields)


@transaction.atomic
def company_save(
    *, org: Organization, by: User | None, company: Company | None = None,
    tag_names: list[str] | None = None, **fields: Any,
) -> Company:  # fmt: skip
    """Create or update a company as a form gives it, tags by name (None: as they are), in
    one transaction."""
    version = fields.pop("version", None)
    tags = None if tag_names is None else tags_by_name(org=org, names=tag_names, by=by)
    if company is None:
        return company_create(org=org, by=by, tags=tags, **fields)
    return company_update(org=org, company=company, by=by, tags=tags, version=version, **fields)
