"""Importing contacts and companies: what their columns can fill, and what a contact's row
carries besides its fields (its company by name, its consent, its phone numbers)."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models.functions import Lower

from contacts.models import Company, ConsentEvent, Contact
from contacts.services import consent_with, normalise_phone
from crm.records.imports.fields import (
    ADDRESS,
    EXTERNAL_ID,
    OWNER,
    TAGS,
    Target,
    choice,
    domain,
    email,
    emails,
    full_name,
    normalise_header,
    phones,
    text,
    yes_no,
)
from crm.records.imports.importer import Importer, Match
from crm.records.imports.plan import CHUNK, CREATE, REJECT, UPDATE, Plan, RowPlan
from crm.records.imports.services import Writer
from crm.records.imports.undo import Restorer
from crm.records.models import ImportJob
from crm.staging import insert_records, next_ids

# --- Reading cells ------------------------------------------------------------------------

_LIFECYCLE_EXTRA = {"marketingqualified": "mql", "salesqualified": "sql", "client": "customer"}
_lifecycle = choice(Contact.Lifecycle.choices, "lifecycle stage")


def lifecycle(cell: str) -> str:
    extra = _LIFECYCLE_EXTRA.get(normalise_header(cell))
    return extra or _lifecycle(cell)


def size(cell: str) -> str:
    # "11-50", "11 to 50", "11 - 50 employees": the digits decide.
    digits = re.sub(r"[^0-9+]", "", cell.replace(",", ""))
    for value in Company.Size.values:
        if digits == re.sub(r"[^0-9+]", "", value):
            return value
    raise ValidationError(
        f"“{cell}” is not a company size: use one of "
        + ", ".join(label for _, label in Company.Size.choices)
        + "."
    )


CONSENT = "consent_"

CONTACT_TARGETS = [
    Target("first_name", "First name", text(100),
           ("firstname", "givenname", "first", "forename", "prenom", "vorname")),
    Target("last_name", "Last name", text(100),
           ("lastname", "surname", "familyname", "last", "nom", "nachname")),
    Target("full_name", "Full name (split into first and last)", full_name,
           ("name", "fullname", "contactname", "contact", "displayname", "person"),
           splits_into=("first_name", "last_name")),
    Target("email", "Email", email,
           ("email", "emailaddress", "email1", "primaryemail", "workemail", "businessemail",
            "mail", "emailaddress1", "email1address", "emailaddr"), overflow="other_emails"),
    Target("other_emails", "Other emails", emails,
           ("otheremails", "email2", "email3", "secondaryemail", "personalemail",
            "emailaddress2", "email2address", "email3address", "alternateemail",
            "additionalemails", "emailhome", "emailother"), many=True),
    Target("phone", "Phone", text(40),
           ("phone", "phonenumber", "telephone", "tel", "workphone", "businessphone",
            "mobilephone", "mobile", "cellphone", "cell", "mobilenumber", "phone1",
            "primaryphone", "directphone", "mobilephonenumber", "phonemobile"),
           overflow="other_phones"),
    Target("other_phones", "Other phones", phones,
           ("otherphones", "phone2", "phone3", "homephone", "otherphone", "fax",
            "additionalphones", "businessphone2", "homephone2", "phonehome", "phoneother"),
           many=True),
    Target("job_title", "Job title", text(150),
           ("jobtitle", "title", "position", "role", "jobrole", "designation",
            "organization1title", "organizationtitle")),
    Target("company", "Company (by name)", text(200),
           ("company", "companyname", "organization", "organisation", "organizationname",
            "organisationname", "account", "accountname", "employer", "business",
            "organization1name")),
    Target("lifecycle", "Lifecycle stage", lifecycle,
           ("lifecyclestage", "lifecycle", "stage", "leadstatus", "contactstage")),
    Target("source", "Source", text(100),
           ("source", "leadsource", "origin", "originalsource", "channel", "acquisitionsource")),
    OWNER,
    TAGS,
    *ADDRESS,
    Target("preferred_channel", "Preferred channel",
           choice(Contact.Channel.choices, "channel"),
           ("preferredchannel", "contactpreference", "preferredcontactmethod")),
    Target("language", "Language", text(10), ("language", "preferredlanguage", "locale", "lang")),
    EXTERNAL_ID,
    *[
        Target(f"{CONSENT}{purpose}", f"Consent: {label.lower()} (yes or no)", yes_no,
               (f"consent{normalise_header(purpose)}", f"{normalise_header(purpose)}consent",
                *(("marketingemails", "newsletter", "emailoptin", "marketingconsent")
                  if purpose == "email_marketing" else ())))
        for purpose, label in ConsentEvent.Purpose.choices
    ],
]  # fmt: skip

COMPANY_TARGETS = [
    Target("name", "Name", text(200),
           ("name", "companyname", "company", "organization", "organisation", "accountname",
            "account", "organizationname", "organisationname", "businessname")),
    Target("domain", "Website domain", domain,
           ("domain", "website", "websitedomain", "url", "web", "companydomain",
            "companydomainname", "homepage", "site")),
    Target("industry", "Industry", text(100), ("industry", "sector", "vertical")),
    Target("size", "Size", size,
           ("size", "companysize", "employees", "numberofemployees", "headcount",
            "employeecount", "sizeband")),
    OWNER,
    TAGS,
    *ADDRESS,
    EXTERNAL_ID,
]  # fmt: skip

_ADDRESS_FIELDS = ("street", "city", "region", "postal_code", "country")


def consent_how(job: ImportJob) -> str:
    """How consent given in an import was given: what its ConsentEvents say."""
    return f"Import of {job.file_name} (#{job.pk})"[:200]


# --- Contacts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ContactImporter(Importer):
    """A contact's row also names its company (found by name, or created with the import),
    gives or withdraws consent per purpose, and has phone numbers read with its country."""

    def put(self, values: dict[str, Any], key: str, value: Any) -> bool:
        if key.startswith(CONSENT):
            values.setdefault("consent", {})[key.removeprefix(CONSENT)] = value
            return True
        return False

    def prepare(self, row: RowPlan, values: dict[str, Any], existing: dict[str, Any] | None,
                header: Callable[[str], str]) -> None:  # fmt: skip
        """Phone numbers in E.164, read with the row's country (or the record's)."""
        country = values.get("country") or (existing or {}).get("country", "")
        try:
            if values.get("phone"):
                values["phone"] = normalise_phone(values["phone"], country=country)
        except ValidationError as error:
            row.refuse(REJECT, header("phone"), " ".join(error.messages))
        try:
            if values.get("other_phones"):
                values["other_phones"] = [
                    normalise_phone(p, country=country) for p in values["other_phones"]
                ]
        except ValidationError as error:
            row.refuse(REJECT, header("other_phones"), " ".join(error.messages))

    def take_new(self, row: RowPlan, values: dict[str, Any]) -> None:
        row.extra = {"company": values.pop("company", ""), "consent": values.pop("consent", {})}

    def take_changes(self, row: RowPlan, values: dict[str, Any], existing: dict[str, Any]) -> None:
        current = existing.get("consent", {})
        consent = {
            purpose: granted
            for purpose, granted in values.pop("consent", {}).items()
            if current.get(purpose, {}).get("granted") is not granted
        }
        company = values.pop("company", "")
        if not (company and company.lower() != (existing.get("company_name") or "").lower()):
            company = ""
        row.extra = {"company": company, "consent": consent}
        # Filled in when applied, once the company's id and the new consent are known.
        if company:
            row.changes["company"] = [existing["company_id"], None]
        if consent:
            row.changes["consent"] = [current, None]

    def after_plan(self, plan: Plan) -> None:
        """Find the companies the rows name, by name in any case; the others are new."""
        names: dict[str, str] = {}
        for row in plan.rows:
            if row.extra.get("company") and row.action in (CREATE, UPDATE):
                names.setdefault(row.extra["company"].lower(), row.extra["company"])
        wanted = sorted(names)
        companies: dict[str, tuple[int, str]] = {}
        for start in range(0, len(wanted), CHUNK):
            found = (
                Company.objects.alive()
                .annotate(_key=Lower("name"))
                .filter(_key__in=wanted[start : start + CHUNK])
                .order_by("-pk")  # the oldest wins: written last below
                .values_list("_key", "pk", "name")
            )
            companies.update({key: (pk, name) for key, pk, name in found})
        plan.extra["companies"] = companies
        plan.extra["new_companies"] = {k: v for k, v in names.items() if k not in companies}

    def totals(self, plan: Plan) -> dict[str, int]:
        return {"companies_created": len(plan.extra.get("new_companies", {}))}

    def describe(self, record: dict[str, Any]) -> str:
        name = f"{record.get('first_name', '')} {record.get('last_name', '')}".strip()
        return name or record.get("email", "") or f"Contact {record['id']}"

    def write_first(self, writer: Writer) -> None:
        """Create the companies that rows name and none has yet, as records of this import."""
        from contacts.records import COMPANY

        writer.extra["company_of"] = dict(writer.plan.extra.get("companies", {}))
        new = writer.plan.extra.get("new_companies", {})
        if not new:
            return
        writer.step("Creating companies")
        ids = next_ids(Company._meta.db_table, len(new))
        records = []
        for pk, (key, name) in zip(ids, new.items(), strict=True):
            writer.extra["company_of"][key] = (pk, name)
            records.append({
                "id": pk, "org_id": writer.org.pk, "name": name[:200],
                "owner_id": writer.job.created_by_id, "created_at": writer.now,
            })  # fmt: skip
        insert_records(Company, records, with_ids=True)
        writer.keep(COMPANY.key, [(pk, True, {}) for pk in ids])
        writer.history(
            COMPANY, "created", [(pk, n, {}) for pk, n in zip(ids, new.values(), strict=True)]
        )

    def new_record(self, writer: Writer, row: RowPlan, record: dict[str, Any]) -> None:
        if row.extra.get("company"):
            record["company_id"], record["company_name"] = writer.extra["company_of"][
                row.extra["company"].lower()
            ]
        if row.extra.get("consent"):
            record["consent"] = consent_with(
                {}, row.extra["consent"], at=writer.now, how=consent_how(writer.job)
            )

    def changed_values(self, writer: Writer, row: RowPlan, values: dict[str, Any]) -> None:
        if row.extra.get("company"):
            pk, name = writer.extra["company_of"][row.extra["company"].lower()]
            values["company_id"], values["company_name"] = pk, name
            row.changes["company"][1] = pk
        if row.extra.get("consent"):
            before = row.changes["consent"][0]
            values["consent"] = consent_with(
                before, row.extra["consent"], at=writer.now, how=consent_how(writer.job)
            )
            row.changes["consent"][1] = values["consent"]

    def write_last(self, writer: Writer) -> None:
        """The consent given or withdrawn, as events with the import named as how."""
        how = consent_how(writer.job)
        insert_records(ConsentEvent, (
            {"org_id": writer.org.pk, "contact_id": row.record_id, "purpose": purpose,
             "granted": granted, "how": how, "at": writer.now,
             "recorded_by_id": writer.job.created_by_id}
            for row in (*writer.created, *writer.updated)
            for purpose, granted in row.extra.get("consent", {}).items()
        ))  # fmt: skip

    def restore(self, restorer: Restorer, record: dict[str, Any], name: str, before: Any,
                after: Any, values: dict[str, Any], undone: dict[str, Any]) -> bool:  # fmt: skip
        if name != "consent":
            return False
        if record["consent"] == after:
            values["consent"], undone[name] = before, [after, before]
            restorer.extra["consent_reset"].append(record["id"])
        return True

    def restored_values(self, values: dict[int, dict[str, Any]]) -> None:
        # Search reads the company's name on the contact: set it from the company put back.
        ids = {v["company_id"] for v in values.values() if v.get("company_id")}
        names = dict(Company.objects.filter(pk__in=ids).values_list("pk", "name"))
        for changed in values.values():
            if "company_id" in changed:
                changed["company_name"] = names.get(changed["company_id"], "")

    def undo_last(self, restorer: Restorer) -> None:
        if restorer.extra["consent_reset"]:
            ConsentEvent.objects.filter(
                contact_id__in=restorer.extra["consent_reset"], how=consent_how(restorer.job)
            ).delete()


CONTACTS = ContactImporter(
    targets=CONTACT_TARGETS,
    match={
        "email": Match("email", "email", "Email address"),
        "external_id": Match("external_id", "external ID", "External ID"),
    },
    plain=(
        "first_name", "last_name", "email", "phone", "job_title", "lifecycle", "source",
        "owner", *_ADDRESS_FIELDS, "preferred_channel", "language", "external_id",
    ),
    lists=(("other_emails", "email"), ("other_phones", "phone")),
    needs=("email", "first_name", "last_name", "full_name"),
    needs_message="Map at least a name or an email column.",
    new_needs=("first_name", "last_name", "email"),
    new_needs_message="A new contact needs a name or an email.",
    new_needs_column="email",
    repr_fields=("first_name", "last_name", "email"),
    reads=("consent", "company_id", "company_name"),
    other_totals={"companies_created": "New companies"},
)  # fmt: skip


# --- Companies ----------------------------------------------------------------------------


COMPANIES = Importer(
    targets=COMPANY_TARGETS,
    match={
        "domain": Match("domain", "domain", "Website domain"),
        "name": Match("name", "name", "Name", lowered=True),
        "external_id": Match("external_id", "external ID", "External ID"),
    },
    plain=("name", "domain", "industry", "size", "owner", *_ADDRESS_FIELDS, "external_id"),
    needs=("name",),
    needs_message="Map a column to the company name.",
    needs_when_updating=False,
    new_needs=("name",),
    new_needs_message="A new company needs a name.",
    new_needs_column="name",
    repr_fields=("name",),
)
