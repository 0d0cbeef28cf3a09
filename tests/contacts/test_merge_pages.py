"""/o/acme/contacts/merge/, /o/acme/companies/merge/ and /o/acme/merges/<id>/undo/."""

import html
import re
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from pytest_django import DjangoAssertNumQueries

from contacts import services
from contacts.models import Contact
from contacts.privacy import contact_erase
from crm import services as crm_services
from crm.models import Organization, User
from crm.records.models import CustomField, Merge
from crm.tenancy import activate
from tests.conftest import allow
from tests.factories import CompanyFactory, ContactFactory, merge, trash

pytestmark = pytest.mark.django_db

URL = "/o/acme/contacts/merge/"


def _get(org: Organization, record: Any) -> Any:
    with activate(org):
        return type(record).objects.get(pk=record.pk)


def _messages(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def _ids(*records: Any) -> str:
    return "&".join(f"ids={record.pk}" for record in records)


def _post(client: Client, *records: Any, url: str = URL, **choices: Any) -> Any:
    data = {"ids": [r.pk for r in records], "survivor": records[0].pk, **choices}
    return client.post(url, data)


def _merge(org: Organization, survivor: Any, *others: Any) -> Merge:
    return merge(org, survivor, others)


@pytest.fixture
def ada(acme: Organization, alice: User) -> Contact:
    return ContactFactory(org=acme, tags=("VIP",), first_name="Ada", last_name="Lovelace",
                    email="ada@engines.example", owner=alice)  # fmt: skip


@pytest.fixture
def king(acme: Organization, alice: User) -> Contact:
    return ContactFactory(org=acme, tags=("Speaker",), first_name="Ada", last_name="King",
                    email="countess@engines.example", job_title="Analyst",
                    owner=alice)  # fmt: skip


# --- The comparison ----------------------------------------------------------------------


def test_it_compares_the_records_with_a_choice_where_they_differ(client, alice, ada, king):
    client.force_login(alice)
    page = client.get(f"{URL}?{_ids(ada, king)}").content.decode()
    # Different last names: a radio per record, the survivor's chosen.
    assert f'name="last_name" value="{ada.pk}" id="id_last_name_0" required checked' in page
    assert f'name="last_name" value="{king.pk}"' in page
    # Both called Ada: nothing to choose.
    assert 'name="first_name"' not in page
    # Only King has a job title: kept unless someone chooses otherwise.
    assert f'name="job_title" value="{king.pk}" id="id_job_title_1" required checked' in page
    assert f'<input type="hidden" name="ids" value="{king.pk}">' in page


def test_it_merges_with_the_values_chosen(client: Client, alice, acme, ada, king) -> None:
    client.force_login(alice)
    response = _post(client, ada, king, last_name=king.pk, email=king.pk, job_title=king.pk)
    assert response["Location"] == f"/o/acme/contacts/{ada.pk}/"
    kept = _get(acme, ada)
    assert (kept.last_name, kept.email, kept.job_title) == (
        "King", "countess@engines.example", "Analyst"
    )  # fmt: skip
    assert _get(acme, king).merged_into_id == ada.pk
    with activate(acme):
        merge = Merge.objects.get()
    assert _messages(response) == [
        f'Merged 1 contact into this one. <a href="/o/acme/merges/{merge.pk}/undo/">Undo…</a>'
    ]


def test_it_keeps_the_record_chosen_as_survivor(client: Client, alice, acme, ada, king) -> None:
    client.force_login(alice)
    data = {"ids": [ada.pk, king.pk], "survivor": king.pk, "last_name": ada.pk,
            "email": ada.pk, "job_title": king.pk}  # fmt: skip
    response = client.post(URL, data)
    assert response["Location"] == f"/o/acme/contacts/{king.pk}/"
    assert _get(acme, king).last_name == "Lovelace"
    assert _get(acme, ada).merged_into_id == king.pk


def test_it_shows_errors_next_to_the_field_and_merges_nothing(client, alice, acme, ada, king):
    with activate(acme):
        CustomField.objects.create(org=acme, record_kind="contact", key="tier", label="Tier",
                                   kind="text")  # fmt: skip
        services.contact_update(org=acme, contact=king, by=None, custom={"tier": "Gold"})
    client.force_login(alice)
    response = _post(client, ada, king, last_name=999, email=ada.pk, job_title=king.pk)
    page = response.content.decode()
    match = re.search(r'<p class="field__error" id="id_last_name_error_1">(.*?)</p>', page)
    assert match is not None
    assert "Select a valid choice" in html.unescape(match[1])
    assert 'name="custom_tier"' in page
    assert _get(acme, king).merged_into_id is None


def test_it_shows_a_refusal_of_the_service_above_the_form(client, alice, acme, ada, king):
    with activate(acme):
        contact_erase(org=acme, contact=king, by=alice)
    client.force_login(alice)
    choices = dict.fromkeys(("first_name", "last_name", "email"), ada.pk)
    response = _post(client, ada, king, **choices)
    errors = re.search(
        r'<div class="form-errors" role="alert">(.*?)</div>', response.content.decode()
    )
    assert errors is not None
    assert "personal data was erased; it cannot be merged" in html.unescape(errors[1])
    assert _get(acme, king).merged_into_id is None


def test_it_merges_companies(client: Client, alice: User, acme: Organization) -> None:
    first = CompanyFactory(org=acme, name="Northwind")
    second = CompanyFactory(org=acme, name="North Wind", domain="nw.example")
    contact = ContactFactory(org=acme, first_name="Ada", company=second)
    client.force_login(alice)
    url = "/o/acme/companies/merge/"
    assert 'name="name"' in client.get(f"{url}?{_ids(first, second)}").content.decode()
    response = _post(client, first, second, url=url, name=second.pk, domain=second.pk)
    assert response["Location"] == f"/o/acme/companies/{first.pk}/"
    assert (_get(acme, contact).company_id, _get(acme, contact).company_name) == (
        first.pk, "North Wind"
    )  # fmt: skip


@pytest.mark.parametrize("records", [2, 6])
def test_its_query_count_does_not_grow(
    client: Client, alice: User, acme: Organization, records: int,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:  # fmt: skip
    company = CompanyFactory(org=acme, name="Engines")
    found = [ContactFactory(org=acme, tags=("VIP", f"T{n}"), first_name=f"Ada {n}",
                            company=company, owner=alice) for n in range(records)]  # fmt: skip
    client.force_login(alice)
    # Session, user, organisation, membership, both walls and their savepoints; the
    # records with their company, owner and tags; the custom field definitions; the
    # organisation switcher.
    with django_assert_max_num_queries(10):
        response = client.get(f"{URL}?{_ids(*found)}")
    assert response.content.decode().count('name="survivor"') == records


# --- Choosing the records ----------------------------------------------------------------


def test_one_record_asks_which_to_merge_it_with(client: Client, alice, acme, ada, king):
    client.force_login(alice)
    page = client.get(f"{URL}?ids={ada.pk}&q=king").content.decode()
    assert "Merge Ada Lovelace with…" in page
    assert f'<input type="checkbox" name="ids" value="{king.pk}"' in page
    assert f'<input type="hidden" name="ids" value="{ada.pk}">' in page
    assert f'value="{ada.pk}" id="pick-{ada.pk}"' not in page


def test_more_than_ten_records_ask_for_fewer(client: Client, alice, acme) -> None:
    ticked = [ContactFactory(org=acme, first_name=f"Ada {n}") for n in range(11)]
    client.force_login(alice)
    response = client.get(f"{URL}?{_ids(*ticked)}")
    assert response.status_code == 200
    assert "Merge at most 10 contacts at once." in response.content.decode()


def test_the_contact_page_links_to_merging(client: Client, alice, bob, ada) -> None:
    client.force_login(alice)
    link = f'href="/o/acme/contacts/merge/?ids={ada.pk}">Merge…</a>'
    assert link in client.get(f"/o/acme/contacts/{ada.pk}/").content.decode()
    client.force_login(bob)
    assert link not in client.get(f"/o/acme/contacts/{ada.pk}/").content.decode()


@pytest.mark.parametrize("url", ["/o/acme/contacts/", "/o/acme/companies/"])
def test_the_lists_link_to_their_duplicates(client: Client, alice, url: str) -> None:
    client.force_login(alice)
    assert f'href="{url}duplicates/">Duplicates</a>' in client.get(url).content.decode()


# --- Refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "role"), [("rita", "rep"), ("sam", "agent")])
def test_reps_and_agents_merge_once_the_organisation_lets_them(
    client: Client, request, acme, who: str, role: str, ada, king
) -> None:
    client.force_login(request.getfixturevalue(who))
    assert client.get(f"{URL}?{_ids(ada, king)}").status_code == 403
    assert client.get("/o/acme/contacts/duplicates/").status_code == 403
    allow(acme, "contact.merge", role)
    assert client.get(f"{URL}?{_ids(ada, king)}").status_code == 200
    assert client.get("/o/acme/contacts/duplicates/").status_code == 200
    assert client.get("/o/acme/companies/merge/").status_code == 403  # contacts only


def test_it_refuses_viewers(client: Client, bob, ada, king) -> None:
    client.force_login(bob)
    assert client.get(f"{URL}?{_ids(ada, king)}").status_code == 403
    assert _post(client, ada, king, last_name=ada.pk).status_code == 403
    assert client.get("/o/acme/companies/merge/").status_code == 403


def test_it_answers_404_for_another_organisations_contact(client, alice, globex, acme, ada):
    theirs = ContactFactory(org=globex, first_name="Grace")
    client.force_login(alice)
    assert client.get(f"{URL}?{_ids(ada, theirs)}").status_code == 404
    assert _post(client, ada, theirs).status_code == 404
    assert _get(globex, theirs).merged_into_id is None


def test_it_answers_404_for_a_contact_hidden_from_the_member(client, acme, alice, rita, ada):
    mine = ContactFactory(org=acme, first_name="Ada", owner=rita)
    allow(acme, "contact.merge", "rep")
    with activate(acme):
        crm_services.org_set_visibility(org=acme, by=alice, visibility={"rep": "own"})
    client.force_login(rita)
    assert client.get(f"{URL}?{_ids(mine, ada)}").status_code == 404
    assert _post(client, mine, ada, first_name=mine.pk).status_code == 404
    assert _get(acme, ada).merged_into_id is None


def test_it_answers_404_for_a_merged_or_trashed_contact(client, acme, alice, ada, king):
    _merge(acme, ada, king)
    client.force_login(alice)
    assert client.get(f"{URL}?{_ids(ada, king)}").status_code == 404


# --- A merged record's old address --------------------------------------------------------


def test_a_merged_contacts_page_leads_to_the_survivor(client: Client, alice, acme, ada, king):
    _merge(acme, ada, king)
    client.force_login(alice)
    response = client.get(f"/o/acme/contacts/{king.pk}/")
    assert response["Location"] == f"/o/acme/contacts/{ada.pk}/"
    assert _messages(response) == ["That contact was merged into Ada Lovelace."]


def test_it_follows_later_merges_to_the_last_survivor(client, alice, acme, ada, king) -> None:
    third = ContactFactory(org=acme, first_name="Augusta")
    _merge(acme, king, ada)
    _merge(acme, third, king)
    client.force_login(alice)
    response = client.get(f"/o/acme/contacts/{ada.pk}/")
    assert response["Location"] == f"/o/acme/contacts/{third.pk}/"


def test_it_answers_404_for_a_survivor_the_member_may_not_see(client, acme, alice, rita, ada):
    mine = ContactFactory(org=acme, first_name="Ada", owner=rita)
    _merge(acme, ada, mine)  # into Alice's contact
    with activate(acme):
        crm_services.org_set_visibility(org=acme, by=alice, visibility={"rep": "own"})
    client.force_login(rita)
    response = client.get(f"/o/acme/contacts/{mine.pk}/")
    assert response.status_code == 404
    assert _messages(response) == []


def test_it_answers_404_when_a_later_survivor_is_hidden(client, acme, alice, rita, ada):
    first, second = (
        ContactFactory(org=acme, first_name=n, owner=rita) for n in ("Augusta", "Byron")
    )
    _merge(acme, second, first)
    _merge(acme, ada, second)  # Rita sees the first two, not Alice's Ada
    with activate(acme):
        crm_services.org_set_visibility(org=acme, by=alice, visibility={"rep": "own"})
    client.force_login(rita)
    assert client.get(f"/o/acme/contacts/{first.pk}/").status_code == 404


def test_it_answers_404_when_the_survivor_is_in_the_trash(client, acme, alice, ada, king):
    _merge(acme, ada, king)
    with activate(acme):
        trash(acme, ada, by=alice)
    client.force_login(alice)
    response = client.get(f"/o/acme/contacts/{king.pk}/")
    assert response.status_code == 404
    assert _messages(response) == []


def test_a_merged_companys_page_leads_to_the_survivor(client: Client, alice, acme) -> None:
    with activate(acme):
        first, second = (CompanyFactory(org=acme, name=n) for n in "AB")
        merge(org=acme, survivor=first, others=[second], values={}, by=None)
    client.force_login(alice)
    response = client.get(f"/o/acme/companies/{second.pk}/")
    assert response["Location"] == f"/o/acme/companies/{first.pk}/"


def test_a_merged_contact_of_another_organisation_answers_404(client, charlie, acme, ada, king):
    _merge(acme, ada, king)
    client.force_login(charlie)
    assert client.get(f"/o/globex/contacts/{king.pk}/").status_code == 404


# --- Undo --------------------------------------------------------------------------------


def test_undo_says_what_comes_back_before_doing_it(client: Client, alice, acme, ada, king):
    merge = _merge(acme, ada, king)
    client.force_login(alice)
    page = html.unescape(client.get(f"/o/acme/merges/{merge.pk}/undo/").content.decode())
    assert "Undo the merge into Ada Lovelace?" in page
    assert "<li>Ada King</li>" in page
    assert "Moved back to them: 1 contact tag." in page
    assert "job title" in page
    assert _get(acme, king).merged_into_id == ada.pk


def test_undo_brings_the_records_back(client: Client, alice, acme, ada, king) -> None:
    merge = _merge(acme, ada, king)
    client.force_login(alice)
    response = client.post(f"/o/acme/merges/{merge.pk}/undo/")
    assert response["Location"] == f"/o/acme/contacts/{ada.pk}/"
    assert _get(acme, king).merged_into_id is None
    assert _get(acme, ada).job_title == ""
    assert _get(acme, merge).undone_by == alice


@pytest.mark.parametrize(("merged", "message"), [(1, "1 contact is back"),
                                                 (2, "2 contacts are back")])  # fmt: skip
def test_undo_says_how_many_records_are_back(client, alice, acme, ada, merged, message) -> None:
    others = [ContactFactory(org=acme, first_name=f"Ada {n}") for n in range(merged)]
    merge = _merge(acme, ada, *others)
    client.force_login(alice)
    response = client.post(f"/o/acme/merges/{merge.pk}/undo/")
    assert _messages(response) == [f"Undid the merge: {message}."]


def test_undo_explains_why_it_cannot(client: Client, alice, acme, ada, king) -> None:
    merge = _merge(acme, ada, king)
    _merge(acme, ada, ContactFactory(org=acme, first_name="Augusta"))
    client.force_login(alice)
    page = html.unescape(client.get(f"/o/acme/merges/{merge.pk}/undo/").content.decode())
    assert "More was merged into Ada Lovelace since; undo that merge first." in page
    response = client.post(f"/o/acme/merges/{merge.pk}/undo/")
    assert response.status_code == 200
    assert _get(acme, king).merged_into_id == ada.pk


def test_undo_refuses_viewers_and_other_organisations(client, bob, charlie, acme, ada, king):
    merge = _merge(acme, ada, king)
    client.force_login(bob)
    assert client.post(f"/o/acme/merges/{merge.pk}/undo/").status_code == 403
    client.force_login(charlie)
    assert client.post(f"/o/globex/merges/{merge.pk}/undo/").status_code == 404
    assert _get(acme, king).merged_into_id == ada.pk


def test_undo_refuses_a_member_who_may_not_see_the_survivor(client, acme, alice, rita, ada, king):
    merge = _merge(acme, ada, king)
    allow(acme, "contact.merge", "rep")
    with activate(acme):
        crm_services.org_set_visibility(org=acme, by=alice, visibility={"rep": "own"})
    client.force_login(rita)
    assert client.post(f"/o/acme/merges/{merge.pk}/undo/").status_code == 404
    assert _get(acme, king).merged_into_id == ada.pk
