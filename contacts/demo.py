"""Realistic demo contacts and companies for `seed_demo`."""

import random
import unicodedata
from typing import Any

from contacts import services
from contacts.models import Company, Contact
from crm.models import Organization, User

FIRST = ["Ada", "Ben", "Chloé", "Dmitri", "Elena", "Farah", "Gustav", "Hana", "Ibrahim", "Julia",
         "Kenji", "Lena", "Marco", "Nadia", "Oscar", "Priya", "Quentin", "Rosa", "Sven", "Tariq",
         "Ulla", "Victor", "Wen", "Yara", "Zoltan"]  # fmt: skip
LAST = ["Andersen", "Baker", "Costa", "Dubois", "Eriksen", "Fischer", "García", "Hoffmann",
        "Ito", "Jansen", "Kowalski", "Laurent", "Moreau", "Novak", "O'Brien", "Petrov",
        "Rossi", "Schmidt", "Tanaka", "Ueda", "Varga", "Weber", "Young", "Zimmermann"]  # fmt: skip
COMPANIES = [
    ("Northwind Traders", "northwind.example", "Wholesale", "GB", "+44 20 7946 0{:03d}"),
    ("Blue Harbor Logistics", "blueharbor.example", "Logistics", "NL", "+31 20 555 0{:03d}"),
    ("Cedar & Pine Furniture", "cedarpine.example", "Retail", "US", "+1 212 555 0{:03d}"),
    ("Lumen Health", "lumenhealth.example", "Healthcare", "DE", "+49 30 901820{:02d}"),
    ("Atelier Soleil", "ateliersoleil.example", "Design", "FR", "+33 1 44 55 6{:03d}"),
    ("Kite Analytics", "kite.example", "Software", "US", "+1 415 555 0{:03d}"),
    ("Fjord Energy", "fjord.example", "Energy", "NO", "+47 22 12 3{:03d}"),
    ("Saffron Kitchens", "saffron.example", "Hospitality", "IN", "+91 22 2345 6{:03d}"),
    ("Granite Bank", "granite.example", "Finance", "CH", "+41 44 668 1{:03d}"),
    ("Orbit Telecom", "orbit.example", "Telecoms", "ES", "+34 91 123 4{:03d}"),
]
TITLES = [
    "CEO", "CTO", "Head of Operations", "Purchasing Manager", "Office Manager",
    "Marketing Lead", "IT Director", "Finance Director", "Founder", "Account Executive",
]  # fmt: skip
TAGS = [("VIP", "amber"), ("Newsletter", "blue"), ("Partner", "green"), ("At risk", "red")]
SOURCES = ["Website", "Referral", "Trade show", "Cold outreach", "Webinar", "Import"]


def _ascii(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(c for c in plain.lower() if c.isalnum())


def seed(*, org: Organization, users: dict[str, User], **kwargs: Any) -> None:
    """Ten companies and sixty contacts, owned by the demo's rep, manager and admin."""
    if Contact.objects.exists():
        return  # seeded before: seed_demo is run again on every `make run`
    rng = random.Random(org.slug)  # noqa: S311  # nosec B311  # repeatable demo data, not a secret
    by = users["admin"]
    owners = [users["rep"], users["rep"], users["manager"], users["admin"]]
    tags = services.tags_by_name(org=org, names=[name for name, _ in TAGS], by=by)
    for tag, (_, color) in zip(tags, TAGS, strict=True):
        tag.color = color
        tag.save(update_fields=["color"])
    companies: list[tuple[Company, str]] = []
    for n, (name, domain, industry, country, _phone) in enumerate(COMPANIES):
        company = services.company_create(
            org=org, by=by, name=name, domain=domain, industry=industry, country=country,
            size=rng.choice(Company.Size.values), owner=owners[n % len(owners)],
            tags=rng.sample(tags, rng.randint(0, 2)),
        )  # fmt: skip
        companies.append((company, _phone))
    for n in range(60):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        company, phone = rng.choice(companies)
        services.contact_create(
            org=org, by=by, first_name=first, last_name=last,
            email=f"{_ascii(first)}.{_ascii(last)}{n}@{company.domain}",
            phone=phone.format(n), country=company.country, company=company,
            job_title=rng.choice(TITLES), lifecycle=rng.choice(Contact.Lifecycle.values),
            source=rng.choice(SOURCES), owner=rng.choice(owners),
            tags=rng.sample(tags, rng.randint(0, 2)),
        )  # fmt: skip
