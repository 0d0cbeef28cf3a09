"""What a column of an import can fill, how its header suggests it, and how a cell is read.

Each kind's importer lists its targets; custom fields add one each.

A converter takes a cell's text (never empty: empty cells are skipped before) and answers
the value to store, or raises ValidationError with a message for the report.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import pycountry
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator

from crm.records.custom_fields import clean_value, definitions
from crm.records.models import CustomField

if TYPE_CHECKING:
    from crm.records.registry import Kind

Converter = Callable[[str], Any]

_SPLIT = re.compile(r"[;,\n]")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_email = EmailValidator(message="")


@dataclass(frozen=True)
class Target:
    """A field a column can be mapped to."""

    key: str
    label: str
    convert: Converter
    aliases: tuple[str, ...] = ()
    # Several columns may fill it (their values are added together).
    many: bool = False
    # Where a second column suggesting this field goes (a second email, a second phone).
    overflow: str = ""
    # Fields its value fills when no column fills them: a full name's (first, last).
    splits_into: tuple[str, ...] = ()


def normalise_header(header: str) -> str:
    """ "E-mail Address" → "emailaddress": how headers are compared with aliases."""
    return _NOT_ALNUM.sub("", header.lower())


# --- Converters ---------------------------------------------------------------------------


def text(limit: int) -> Converter:
    def convert(value: str) -> str:
        if len(value) > limit:
            raise ValidationError(f"Longer than {limit:,} characters.")
        return value

    return convert


def email(value: str) -> str:
    value = value.lower()
    try:
        _email(value)
    except ValidationError:
        raise ValidationError(f"“{value}” is not an email address.") from None
    if len(value) > 254:
        raise ValidationError("Longer than 254 characters.")
    return value


def emails(value: str) -> list[str]:
    return [email(part.strip()) for part in _SPLIT.split(value) if part.strip()]


def phones(value: str) -> list[str]:
    # Normalised to E.164 later, with the row's country: here only split.
    return [part.strip() for part in re.split(r"[;\n]", value) if part.strip()]


def names(value: str) -> list[str]:
    found = [part.strip() for part in _SPLIT.split(value) if part.strip()]
    if any(len(name) > 50 for name in found):
        raise ValidationError("A tag is longer than 50 characters.")
    return found


_COUNTRY_ALIASES = {
    "uk": "GB", "england": "GB", "scotland": "GB", "wales": "GB", "northernireland": "GB",
    "greatbritain": "GB", "russia": "RU", "southkorea": "KR", "northkorea": "KP",
    "iran": "IR", "syria": "SY", "laos": "LA", "vietnam": "VN", "turkey": "TR",
    "czechia": "CZ", "holland": "NL", "bolivia": "BO", "venezuela": "VE", "tanzania": "TZ",
    "moldova": "MD", "taiwan": "TW", "ivorycoast": "CI", "deutschland": "DE",
    "espana": "ES", "españa": "ES", "brasil": "BR", "italia": "IT", "schweiz": "CH",
    "suisse": "CH", "osterreich": "AT", "österreich": "AT", "nederland": "NL",
}  # fmt: skip


@cache
def country(value: str) -> str:
    """An ISO 3166 code from a code (FR, FRA) or a name in English ("United Kingdom")."""
    alias = _COUNTRY_ALIASES.get(_NOT_ALNUM.sub("", value.lower()))
    if alias:
        return alias
    try:
        return str(pycountry.countries.lookup(value.strip()).alpha_2)
    except LookupError:
        raise ValidationError(
            f"“{value}” is not a country we know: use its code, e.g. FR."
        ) from None


def choice(choices: list[tuple[str, str]], noun: str) -> Converter:
    """One of a model's choices, by its value or its label, in any case and spacing."""
    known: dict[str, str] = {}
    for value, label in choices:
        known[normalise_header(value)] = value
        known[normalise_header(label)] = value

    def convert(cell: str) -> str:
        found = known.get(normalise_header(cell))
        if found is None:
            listed = ", ".join(label for _, label in choices)
            raise ValidationError(f"“{cell}” is not a {noun}: use one of {listed}.")
        return found

    return convert


_YES, _NO = {"yes", "y", "true", "1", "granted", "optin", "subscribed"}, {
    "no", "n", "false", "0", "withdrawn", "optout", "unsubscribed",
}  # fmt: skip


def yes_no(cell: str) -> bool:
    word = normalise_header(cell)
    if word in _YES or word in _NO:
        return word in _YES
    raise ValidationError(f"“{cell}” is not yes or no.")


def domain(cell: str) -> str:
    """A website's domain from what people paste: "https://www.Example.com/about" → example.com"""
    value = cell.strip().lower()
    value = re.sub(r"^[a-z]+://", "", value).split("/")[0].split("?")[0].removeprefix("www.")
    try:
        URLValidator(message="")(f"https://{value}")
    except ValidationError:
        raise ValidationError(f"“{cell}” is not a website domain, such as example.com.") from None
    return value


def full_name(cell: str) -> tuple[str, str]:
    """ "Ada King Lovelace" → ("Ada", "King Lovelace"); one word is a first name."""
    first, _, last = " ".join(cell.split()).partition(" ")
    if len(first) > 100 or len(last) > 100:
        raise ValidationError("Longer than 100 characters.")
    return first, last


def custom(field: CustomField) -> Converter:
    def convert(cell: str) -> Any:
        if field.kind == CustomField.Kind.MULTI_CHOICE:
            return clean_value(field, [part.strip() for part in cell.split(";") if part.strip()])
        return clean_value(field, cell)

    return convert


# --- Targets every kind of record can use -------------------------------------------------

ADDRESS = [
    # Google ("Address 1 - Street"), Outlook ("Business Street"), HubSpot ("State/Region"),
    # Salesforce ("Mailing Zip/Postal Code"), Zoho ("Mailing Zip").
    Target("street", "Street", text(200), ("street", "address", "streetaddress", "address1",
                                           "addressline1", "addressstreet", "mailingstreet",
                                           "address1street", "businessstreet", "homestreet",
                                           "billingstreet")),
    Target("city", "City", text(100), ("city", "town", "mailingcity", "addresscity",
                                       "address1city", "businesscity", "homecity",
                                       "billingcity")),
    Target("region", "Region or state", text(100), ("region", "state", "province", "county",
                                                     "stateregion", "mailingstate",
                                                     "mailingstateprovince", "address1region",
                                                     "businessstate", "homestate",
                                                     "billingstateprovince", "stateprovince")),
    Target("postal_code", "Postal code", text(20), ("postalcode", "postcode", "zip", "zipcode",
                                                    "mailingzip", "mailingpostalcode",
                                                    "mailingzippostalcode", "address1postalcode",
                                                    "businesspostalcode", "homepostalcode",
                                                    "billingzippostalcode", "zippostalcode")),
    Target("country", "Country", country, ("country", "countrycode", "countryregion",
                                           "mailingcountry", "address1country",
                                           "businesscountryregion", "homecountryregion",
                                           "billingcountry")),
]  # fmt: skip
OWNER = Target(
    "owner", "Owner (a member's email)", email,  # checked against the members when planned
    ("owner", "owneremail", "contactowner", "companyowner", "accountowner", "assignedto",
     "salesrep", "recordowner"),
)  # fmt: skip
TAGS = Target(
    "tags",
    "Tags",
    names,
    ("tags", "tag", "labels", "label", "lists", "groupmembership"),
    many=True,
)
EXTERNAL_ID = Target(
    "external_id", "External ID", text(100),
    ("externalid", "id", "recordid", "contactid", "companyid", "accountid", "crmid", "uid"),
)  # fmt: skip


def targets(kind: Kind) -> dict[str, Target]:
    """Every field a column of the kind's import can fill, custom fields last."""
    assert kind.imports is not None, f"{kind.nouns} cannot be imported"
    found = {target.key: target for target in kind.imports.targets}
    for field in definitions(kind.key) if kind.custom_fields else []:
        aliases = (normalise_header(field.key), normalise_header(field.label))
        found[f"custom_{field.key}"] = Target(
            f"custom_{field.key}", field.label, custom(field), aliases
        )
    return found


def suggest(kind: Kind, headers: list[str], known: dict[str, Target] | None = None) -> list[str]:
    """A target per header, from its name ("E-mail Address" → email), each target once
    unless it takes several columns; "" for a header that suggests nothing."""
    known = known or targets(kind)
    by_alias: dict[str, str] = {}
    for target in known.values():
        for alias in target.aliases:
            by_alias.setdefault(alias, target.key)
    taken: set[str] = set()
    mapping = []
    for header in headers:
        key = next((by_alias[n] for n in _spellings(header) if n in by_alias), "")
        if key in taken and not known[key].many:
            key = known[key].overflow
        if key:
            taken.add(key)
        mapping.append(key)
    # A file with a given and a family name and a whole name ("Name", as Google's has)
    # imports the parts: the whole name is left out, not split over them.
    parts = {part for target in known.values() for part in target.splits_into}
    if parts & set(mapping):
        mapping = ["" if known.get(key) and known[key].splits_into else key for key in mapping]
    return mapping


def _spellings(header: str) -> list[str]:
    """A header as other tools' exports spell it, normalised: Google's "E-mail 1 - Value",
    Pipedrive's "Person - Email - Work" are "email1" and "email"; the header as it is first."""
    spellings = [normalise_header(header)]
    for strip in (
        lambda n: n.removesuffix("value"),  # Google: the value beside its "- Label" column
        lambda n: n.removeprefix("person"),  # Pipedrive: "Person - Email"
        lambda n: n.removeprefix("contact"),  # "Contact Owner", "Contact ID"
        lambda n: n.removesuffix("work"),  # Pipedrive: "Phone - Work" is the phone
    ):
        spellings += [found for n in list(spellings) if (found := strip(n)) not in spellings]
    return [n for n in spellings if n]
