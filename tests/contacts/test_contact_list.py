"""/o/acme/contacts/: search, filters, sorting, paging and who sees which contacts."""

import re
from datetime import datetime

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from contacts import services
from contacts.models import Contact
from crm import services as crm_services
from crm.models import Organization, User
from crm.records import filters
from crm.tenancy import activate
from tests.factories import CompanyFactory, ContactFactory, trash

pytestmark = pytest.mark.django_db

URL = "/o/acme/contacts/"
People = dict[str, Contact]


def _names(client: Client, query: str = "") -> list[str]:
    """The contacts' names in the list's rows, in their order."""
    page = client.get(URL + query).content.decode()
    return re.findall(r'<td class="col-title"><a href="/o/acme/contacts/\d+/">([^<]+)</a>', page)


def _created_on(org: Organization, contact: Contact, day: str) -> None:
    with activate(org):
        when = timezone.make_aware(datetime.fromisoformat(day))
        Contact.objects.filter(pk=contact.pk).update(created_at=when)


@pytest.fixture
def people(acme: Organization) -> People:
    """Three Acme contacts with different names, addresses, numbers and companies."""
    return {
        "john": ContactFactory(org=acme, first_name="John", last_name="Smith",
                               email="john@smith.example", phone="020 7946 0958", country="GB",
                               company=CompanyFactory(org=acme, name="Northwind")),
        "grace": ContactFactory(org=acme, first_name="Grace", last_name="Hopper",
                                email="grace@navy.example", phone="+1 415 555 0123",
                                company=CompanyFactory(org=acme, name="Kite Analytics")),
        "ada": ContactFactory(org=acme, first_name="Ada", last_name="Lovelace",
                              email="ada@engines.example"),
    }  # fmt: skip


# --- Whose contacts ----------------------------------------------------------------------


def test_it_lists_the_organisations_contacts(client: Client, alice: User, people: People) -> None:
    client.force_login(alice)
    assert _names(client) == ["Grace Hopper", "Ada Lovelace", "John Smith"]


def test_it_leaves_trashed_contacts_off_the_list(
    client: Client, alice: User, acme: Organization, people: People
) -> None:
    with activate(acme):
        trash(acme, people["ada"], by=alice)
    client.force_login(alice)
    assert _names(client) == ["Grace Hopper", "John Smith"]
    assert "2 contacts" in client.get(URL).content.decode()


def _smiths(org: Organization, count: int, owner: User | None) -> None:
    with activate(org):
        Contact.objects.bulk_create(
            Contact(org=org, first_name=f"Person{n}", last_name="Smith", owner=owner)
            for n in range(count)
        )


def test_a_rep_finds_their_own_among_more_matches_than_a_page_looks_at(
    client: Client, acme: Organization, alice: User, rita: User
) -> None:
    with activate(acme):
        crm_services.org_set_visibility(org=acme, by=alice, visibility={"rep": "own"})
    _smiths(acme, 1_010, owner=alice)
    _smiths(acme, 3, owner=rita)
    client.force_login(rita)
    page = client.get(URL + "?q=smith").content.decode()
    assert "1–3 of 3 contacts" in page
    assert "only those were looked at" not in page


def test_it_says_when_a_narrowed_search_was_only_a_sample(
    client: Client, acme: Organization, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(filters, "SEARCH_MAX_ROWS", 1_005)  # fewer rows to write
    _smiths(acme, 1_010, owner=None)
    _smiths(acme, 2, owner=alice)
    client.force_login(alice)
    page = client.get(URL + "?q=smith&owner=" + str(alice.pk)).content.decode()
    assert "This search matches more than 1,005 contacts; only those were looked at." in page


def test_it_escapes_what_its_rows_show(client: Client, alice: User, acme: Organization) -> None:
    ContactFactory(
        org=acme, first_name="<b>Bo</b>", last_name="<i>Lo</i>", job_title="<script>x</script>"
    )
    client.force_login(alice)
    page = client.get(URL).content.decode()
    assert "<b>" not in page
    assert "<script>x" not in page
    assert "Select &lt;b&gt;Bo&lt;/b&gt; &lt;i&gt;Lo&lt;/i&gt;</label>" in page  # the checkbox's
    assert "&lt;script&gt;x&lt;/script&gt;" in page  # the job title under the name


# --- Search ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "found"),
    [
        ("Gra", ["Grace Hopper"]),  # the beginning of a first name
        ("navy", ["Grace Hopper"]),  # part of an email address
        ("7946 0958", ["John Smith"]),  # digits of a phone number, as people write them
        ("+44 20 7946 0958", ["John Smith"]),  # the whole number, internationally
        ("4155550", ["Grace Hopper"]),
        ("kite", ["Grace Hopper"]),  # the company's name
    ],
)
def test_it_finds_contacts(
    client: Client, alice: User, people: People, term: str, found: list[str]
):
    client.force_login(alice)
    assert _names(client, f"?q={term}") == found


def test_it_finds_a_contact_despite_a_misspelling(
    client: Client, alice: User, people: People
) -> None:
    client.force_login(alice)
    assert _names(client, "?q=jonh") == ["John Smith"]


def test_it_finds_a_contact_by_the_number_the_list_shows(
    client: Client, alice: User, people: People
) -> None:
    client.force_login(alice)
    assert "020 7946 0958 (GB)" in client.get(f"{URL}?columns=name,phone").content.decode()
    assert _names(client, "?q=020 7946 0958") == ["John Smith"]


# --- Filters -----------------------------------------------------------------------------


def test_it_filters_by_lifecycle(client: Client, alice: User, acme: Organization) -> None:
    ContactFactory(org=acme, first_name="Carl", last_name="Customer", lifecycle="customer")
    ContactFactory(org=acme, first_name="Lee", last_name="Lead", lifecycle="lead")
    client.force_login(alice)
    assert _names(client, "?lifecycle=customer") == ["Carl Customer"]


def test_it_filters_by_owner(client: Client, alice: User, rita: User, acme: Organization) -> None:
    ContactFactory(org=acme, first_name="Rita's", last_name="Lead", owner=rita)
    ContactFactory(org=acme, first_name="Alice's", last_name="Lead", owner=alice)
    client.force_login(alice)
    assert _names(client, f"?owner={rita.pk}") == ["Rita&#x27;s Lead"]


def test_it_filters_by_company(client: Client, alice: User, people: People) -> None:
    client.force_login(alice)
    assert _names(client, "?company=north") == ["John Smith"]


def test_it_filters_by_creation_date(
    client: Client, alice: User, acme: Organization, people: People
) -> None:
    _created_on(acme, people["john"], "2024-01-10")
    _created_on(acme, people["grace"], "2024-02-20")
    _created_on(acme, people["ada"], "2024-03-30")
    client.force_login(alice)
    query = "?created_after=2024-02-01&created_before=2024-03-30"
    assert _names(client, query) == ["Grace Hopper", "Ada Lovelace"]


def test_it_filters_by_consent(
    client: Client, alice: User, acme: Organization, people: People
) -> None:
    with activate(acme):
        for contact, granted in [(people["ada"], True), (people["grace"], False)]:
            services.contact_set_consent(
                org=acme, contact=contact, purpose="email_marketing", granted=granted,
                how="web form", by=alice,
            )  # fmt: skip
    client.force_login(alice)
    assert _names(client, "?consent=email_marketing") == ["Ada Lovelace"]


def test_it_shows_nothing_for_an_invalid_filter(
    client: Client, alice: User, people: People
) -> None:
    client.force_login(alice)
    page = client.get(URL + "?created_after=notadate").content.decode()
    assert _names(client, "?created_after=notadate") == []
    assert '<p class="list-footer__count" role="status">0 contacts</p>' in page
    assert "No contacts match" in page


# --- Sorting -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "names"),
    [
        ("name", ["Grace Hopper", "Ada Lovelace", "John Smith"]),
        ("-name", ["John Smith", "Ada Lovelace", "Grace Hopper"]),
        ("company", ["Ada Lovelace", "Grace Hopper", "John Smith"]),  # "", Kite, Northwind
        ("-created", ["John Smith", "Ada Lovelace", "Grace Hopper"]),
    ],
)
def test_it_sorts(
    client: Client,
    alice: User,
    acme: Organization,
    people: People,
    sort: str,
    names: list[str],
) -> None:
    for key, day in [("grace", "2024-01-01"), ("ada", "2024-02-01"), ("john", "2024-03-01")]:
        _created_on(acme, people[key], day)
    client.force_login(alice)
    assert _names(client, f"?sort={sort}") == names


# --- The page around the results ---------------------------------------------------------


def test_it_pages_through_sixty_contacts(client: Client, alice: User, acme: Organization) -> None:
    for n in range(60):
        ContactFactory(org=acme, first_name="Person", last_name=f"{n:02d}")
    client.force_login(alice)
    page = client.get(URL + "?page=2").content.decode()
    assert _names(client, "?page=2") == [f"Person {n}" for n in range(50, 60)]
    assert "Page 2 of 2" in page
    assert "51–60 of 60 contacts" in page


@pytest.mark.parametrize("contacts", [5, 55])
def test_it_lists_in_a_fixed_number_of_queries(
    client: Client, alice: User, acme: Organization, contacts: int,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:  # fmt: skip
    company = CompanyFactory(org=acme, name="Northwind")
    for n in range(contacts):
        ContactFactory(org=acme, first_name="Person", last_name=f"{n:02d}", company=company,
                       tags=("VIP", "Partner"), owner=alice)  # fmt: skip
    client.force_login(alice)
    client.get(URL)  # the cache then has the custom fields and the segments of the filters
    # The user and the walls: app.user_id, the user's memberships (this organisation's and
    # the switcher's), app.org_id; a count, the page, its tags; the owners (for the filter
    # and the bulk actions alike) and the tags of the filters; the saved views. Ten in
    # production: the test's own transaction adds a savepoint, its release, and putting
    # app.org_id back as the test had it.
    with django_assert_max_num_queries(13):
        response = client.get(URL)
    assert f"{contacts} contacts" in response.content.decode()


@pytest.mark.parametrize("contacts", [5, 55])
def test_it_searches_in_a_fixed_number_of_queries(
    client: Client, alice: User, acme: Organization, contacts: int,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:  # fmt: skip
    company = CompanyFactory(org=acme, name="Northwind")
    for n in range(contacts):
        ContactFactory(org=acme, first_name="Person", last_name=f"{n:02d}", company=company,
                       tags=("VIP", "Partner"), owner=alice)  # fmt: skip
    client.force_login(alice)
    client.get(URL)  # the cache then has the custom fields and the segments of the filters
    # The list's, and the search function: its matches are then counted and ordered in one
    # query, as the list counts, and only the page's rows are read in full.
    with django_assert_max_num_queries(14):
        response = client.get(URL + "?q=person")
    assert f"{contacts} contacts" in response.content.decode()


def test_it_shows_a_searchs_last_page_for_a_page_past_its_end(
    client: Client, alice: User, people: People
) -> None:
    client.force_login(alice)
    page = client.get(URL + "?q=a&page=7").content.decode()
    assert "1–3 of 3 contacts" in page  # Grace, Ada and John (@smith.example)


def test_it_shows_no_page_past_the_twenty_a_capped_search_counts(
    client: Client, alice: User, acme: Organization
) -> None:
    _smiths(acme, 1_002, owner=alice)
    client.force_login(alice)
    page = client.get(URL + "?q=smith&page=21").content.decode()
    assert "Page 20 of 20" in page
    assert len(_names(client, "?q=smith&page=21")) == 50


def test_its_search_uses_the_indexes_past_row_level_security(acme, alice) -> None:
    # The search function belongs to the maintenance role, so that its query may use the
    # GIN indexes; under the policy, LIKE and @@ could never be index conditions.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE proname = 'crm_search_ids'"
        )
        assert cursor.fetchone() == ("crm_maintenance",)


def test_it_says_there_are_no_contacts_yet_when_only_columns_are_chosen(client, acme, alice):
    client.force_login(alice)
    html = client.get("/o/acme/contacts/?columns=name&columns=email&sort=-created").content.decode()
    assert "No contacts yet" in html
    assert "No contacts match" not in html
