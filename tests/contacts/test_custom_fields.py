"""Custom fields: Settings → Custom fields, and their values in forms, pages, filters, exports."""

import csv
import html
import io
import re
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from contacts import services
from contacts.models import Contact
from crm.models import AuditEvent, Organization, User
from crm.records import custom_fields
from crm.records.models import CustomField, SavedView
from crm.tenancy import activate
from tests.factories import CompanyFactory, ContactFactory
from tests.records.facts import fact_text

pytestmark = pytest.mark.django_db

SETTINGS = "/o/acme/settings/custom-fields/"


def _define(org: Organization, key: str, kind: str, **extra: Any) -> CustomField:
    with activate(org):
        return custom_fields.custom_field_save(
            org=org, by=None, record_kind=extra.pop("record_kind", "contact"), key=key,
            label=extra.pop("label", key.replace("_", " ").capitalize()), kind=kind,
            choices=extra.pop("choices", []), **extra,
        )  # fmt: skip


def _csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def _custom(org: Organization, contact: Contact) -> dict[str, Any]:
    with activate(org):
        return Contact.objects.get(pk=contact.pk).custom


def _error_for(response: Any, field: str) -> str:
    """The error shown under a form field, as the person reads it."""
    pattern = rf'<p class="field__error" id="id_{field}_error_1">(.*?)</p>'
    match = re.search(pattern, response.content.decode())
    return html.unescape(match[1]) if match else ""


def _contact_form(**changes: Any) -> dict[str, Any]:
    return {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@engines.example",
            "phone": "", "company": "", "lifecycle": "lead", "tags": "", "owner": "",
            "country": "", **changes}  # fmt: skip


def _definition(**changes: Any) -> dict[str, Any]:
    return {"record_kind": "contact", "label": "Shoe size", "key": "", "kind": "number",
            "choices": "", "position": "0", **changes}  # fmt: skip


# --- Settings → Custom fields ---------------------------------------------------------------


def test_it_shows_an_empty_state(client: Client, alice: User) -> None:
    client.force_login(alice)
    page = client.get(SETTINGS).content.decode()
    assert "No custom fields yet" in page
    assert 'href="/o/acme/settings/custom-fields/"' in page  # the settings nav links here


@pytest.mark.parametrize("kind", CustomField.Kind.values)
def test_it_creates_each_kind(client: Client, acme: Organization, alice: User, kind: str) -> None:
    client.force_login(alice)
    choices = "Gold\nSilver\n" if kind in ("choice", "multi_choice") else ""
    form = _definition(label="Loyalty level", kind=kind, choices=choices, required="on")
    response = client.post(SETTINGS + "new/", form)
    assert response.status_code == 302, _error_for(response, "choices")
    with activate(acme):
        field = CustomField.objects.get()
        assert AuditEvent.objects.filter(action="custom_field.created").exists()
    assert (field.key, field.kind, field.required) == ("loyalty_level", kind, True)
    assert field.choices == (["Gold", "Silver"] if choices else [])
    assert "Loyalty level" in client.get(SETTINGS).content.decode()


def test_it_requires_choices_for_the_list_kinds(client: Client, acme, alice: User) -> None:
    client.force_login(alice)
    response = client.post(SETTINGS + "new/", _definition(kind="choice"))
    assert _error_for(response, "choices") == "Give the choices, one per line."
    with activate(acme):
        assert not CustomField.objects.exists()


def test_it_refuses_a_key_used_in_the_same_kind(client: Client, acme, alice: User) -> None:
    _define(acme, "shoe_size", "number")
    _define(acme, "tier", "text", record_kind="company")  # another kind: no clash
    client.force_login(alice)
    response = client.post(SETTINGS + "new/", _definition(key="shoe_size"))
    assert _error_for(response, "key") == "Another field of contacts has this key."
    assert client.post(SETTINGS + "new/", _definition(key="tier")).status_code == 302


def test_it_keeps_the_key_when_editing(client: Client, acme, alice: User) -> None:
    field = _define(acme, "shoe_size", "number")
    client.force_login(alice)
    form = _definition(key="renamed", label="Shoe size (EU)", record_kind="company")
    assert client.post(f"{SETTINGS}{field.pk}/", form).status_code == 302
    with activate(acme):
        field.refresh_from_db()
    assert (field.key, field.record_kind, field.label) == ("shoe_size", "contact", "Shoe size (EU)")


@pytest.mark.parametrize("who", ["bob", "rita"])
def test_it_refuses_non_admins(client: Client, acme, request, who: str) -> None:
    field = _define(acme, "shoe_size", "number")
    client.force_login(request.getfixturevalue(who))
    for url in (
        SETTINGS,
        SETTINGS + "new/",
        f"{SETTINGS}{field.pk}/",
        f"{SETTINGS}{field.pk}/delete/",
    ):
        assert client.get(url).status_code == 403
    for url in (SETTINGS + "new/", f"{SETTINGS}{field.pk}/", f"{SETTINGS}{field.pk}/delete/"):
        assert client.post(url, _definition()).status_code == 403
    with activate(acme):
        assert CustomField.objects.count() == 1


def test_it_hides_another_organisations_field(client: Client, globex, charlie, alice) -> None:
    field = _define(globex, "secret", "text")
    client.force_login(alice)
    assert client.get(f"{SETTINGS}{field.pk}/").status_code == 404
    assert client.post(f"{SETTINGS}{field.pk}/delete/").status_code == 404


# --- The contact form ----------------------------------------------------------------------


def test_the_contact_form_shows_the_fields(client: Client, acme, alice: User) -> None:
    _define(acme, "shoe_size", "number", label="Shoe size", required=True)
    _define(acme, "tier", "choice", choices=["Gold", "Silver"])
    client.force_login(alice)
    page = client.get("/o/acme/contacts/new/").content.decode()
    assert re.search(r'<input type="number" name="custom_shoe_size"[^>]*required', page)
    assert '<option value="Gold">Gold</option>' in page


@pytest.mark.parametrize(
    ("kind", "value", "error"),
    [
        ("number", "twelve", "Enter a whole number."),
        ("date", "31/01/2025", "Enter a valid date."),
        ("url", "not a url", "Enter a valid URL."),
        ("choice", "Bronze", "Select a valid choice. Bronze is not one of the available choices."),
        ("text", "", "This field is required."),
    ],
)
def test_the_contact_form_refuses_a_bad_value(
    client: Client, acme, alice: User, kind: str, value: str, error: str
) -> None:
    _define(acme, "extra", kind, choices=["Gold"] if kind == "choice" else [], required=True)
    client.force_login(alice)
    response = client.post("/o/acme/contacts/new/", _contact_form(custom_extra=value))
    assert _error_for(response, "custom_extra") == error
    with activate(acme):
        assert not Contact.objects.exists()


def test_it_stores_normalised_values_and_shows_them(client: Client, acme, alice: User) -> None:
    _define(acme, "shoe_size", "number", label="Shoe size")
    _define(acme, "budget", "decimal")
    _define(acme, "met_on", "date", label="Met on")
    _define(acme, "vip", "boolean", label="VIP")
    _define(acme, "site", "url", label="Site")
    _define(acme, "topics", "multi_choice", choices=["Maths", "Engines", "Poetry"])
    client.force_login(alice)
    form = _contact_form(custom_shoe_size="38", custom_budget="1200.50", custom_met_on="1833-06-05",
                         custom_vip="true", custom_site="https://ada.example",
                         custom_topics=["Poetry", "Maths"])  # fmt: skip
    response = client.post("/o/acme/contacts/new/", form)
    assert response.status_code == 302
    with activate(acme):
        contact = Contact.objects.get()
    assert contact.custom == {"shoe_size": 38, "budget": "1200.5", "met_on": "1833-06-05",
                              "vip": True, "site": "https://ada.example",
                              "topics": ["Maths", "Poetry"]}  # fmt: skip
    page = client.get(response["Location"]).content.decode()
    assert fact_text(page, "Shoe size") == "38"
    assert fact_text(page, "Met on") == "5 Jun 1833"
    assert fact_text(page, "VIP") == "Yes"
    assert fact_text(page, "Site") == "https://ada.example"
    assert '<a class="fact__link" href="https://ada.example" rel="noopener noreferrer">' in page
    assert fact_text(page, "Topics") == "Maths, Poetry"


def test_the_edit_form_shows_the_stored_values(client: Client, acme, alice: User) -> None:
    _define(acme, "met_on", "date")
    ada = ContactFactory(org=acme, first_name="Ada", custom={"met_on": "1833-06-05"})
    client.force_login(alice)
    page = client.get(f"/o/acme/contacts/{ada.pk}/edit/").content.decode()
    assert re.search(r'name="custom_met_on" value="1833-06-05"', page)


def test_a_company_form_stores_its_own_fields(client: Client, acme, alice: User) -> None:
    _define(acme, "employees_here", "number", record_kind="company")
    client.force_login(alice)
    form = {"name": "Engines Ltd", "owner": "", "tags": "", "custom_employees_here": "12"}
    response = client.post("/o/acme/companies/new/", form)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert fact_text(page, "Employees here") == "12"


def test_another_organisations_fields_never_appear(client: Client, acme, globex, alice) -> None:
    _define(globex, "globex_secret", "text", label="Globex secret")
    client.force_login(alice)
    for url in ("/o/acme/contacts/new/", "/o/acme/contacts/", SETTINGS):
        page = client.get(url).content.decode()
        assert "globex_secret" not in page
        assert "Globex secret" not in page


# --- The service ----------------------------------------------------------------------------


def test_the_service_refuses_unknown_keys_and_bad_values(acme: Organization) -> None:
    _define(acme, "shoe_size", "number")
    with pytest.raises(ValidationError) as error:
        ContactFactory(org=acme, first_name="Ada", custom={"shoe_size": "big", "nope": "x"})
    assert set(error.value.message_dict) == {"custom_shoe_size", "custom"}
    with activate(acme):
        assert not Contact.objects.exists()


@pytest.mark.parametrize("value", ["1e400000", "-1E+99", "1" * 40, 10**40, "1e-40"])
@pytest.mark.parametrize("kind", ["number", "decimal"])
def test_the_service_refuses_numbers_of_absurd_size_at_once(
    acme: Organization, kind: str, value: object
) -> None:
    _define(acme, "size", kind)
    with pytest.raises(ValidationError) as error:
        ContactFactory(org=acme, first_name="Ada", custom={"size": value})
    assert error.value.message_dict["custom_size"] == ["Enter a number with fewer than 30 digits."]


def test_the_service_enforces_required_fields(acme: Organization) -> None:
    _define(acme, "shoe_size", "number", required=True)
    with pytest.raises(ValidationError) as error:
        ContactFactory(org=acme, first_name="Ada", custom={})
    assert error.value.message_dict == {"custom_shoe_size": ["This field is required."]}


def test_the_service_leaves_custom_alone_when_not_given(acme: Organization) -> None:
    _define(acme, "shoe_size", "number", required=True)
    ada = ContactFactory(org=acme, first_name="Ada", custom={"shoe_size": 38})
    with activate(acme):
        services.contact_update(org=acme, contact=ada, by=None, job_title="Analyst")
    assert _custom(acme, ada) == {"shoe_size": 38}


# --- The list and the export ------------------------------------------------------------------


FILTERS = [
    ("text", [], ["Blue whale", "Red fox"], "whale"),
    ("number", [], [38, 40], "38"),
    ("decimal", [], ["1.5", "2"], "1.50"),
    ("date", [], ["2025-01-31", "2025-02-01"], "2025-01-31"),
    ("boolean", [], [True, False], "true"),
    ("choice", ["Gold", "Silver"], ["Gold", "Silver"], "Gold"),
    ("multi_choice", ["A", "B"], [["A", "B"], ["B"]], "A"),
]


@pytest.mark.parametrize(("kind", "choices", "values", "query"), FILTERS)
def test_the_list_filters_by_a_custom_field(
    client: Client, acme, alice, kind: str, choices: list[str], values: list[Any], query: str
) -> None:
    _define(acme, "extra", kind, choices=choices)
    hit = ContactFactory(org=acme, first_name="Hit", custom={"extra": values[0]})
    miss = ContactFactory(org=acme, first_name="Miss", custom={"extra": values[1]})
    client.force_login(alice)
    page = client.get(f"/o/acme/contacts/?custom_extra={query}").content.decode()
    assert f"/o/acme/contacts/{hit.pk}/" in page
    assert f"/o/acme/contacts/{miss.pk}/" not in page


@pytest.mark.parametrize(("kind", "choices", "values", "query"), FILTERS)
def test_the_company_list_filters_by_a_custom_field(
    client: Client, acme, alice, kind: str, choices: list[str], values: list[Any], query: str
) -> None:
    _define(acme, "extra", kind, choices=choices, record_kind="company")
    hit = CompanyFactory(org=acme, name="Hit", custom={"extra": values[0]})
    miss = CompanyFactory(org=acme, name="Miss", custom={"extra": values[1]})
    client.force_login(alice)
    page = client.get(f"/o/acme/companies/?custom_extra={query}").content.decode()
    assert f"/o/acme/companies/{hit.pk}/" in page
    assert f"/o/acme/companies/{miss.pk}/" not in page


def test_the_company_list_offers_its_own_custom_filters_only(client: Client, acme, alice) -> None:
    _define(acme, "tier", "choice", choices=["Gold"], record_kind="company", label="Tier")
    _define(acme, "shoe_size", "number", label="Shoe size")  # a contact's field
    client.force_login(alice)
    page = client.get("/o/acme/companies/?custom_tier=Gold").content.decode()
    assert 'name="custom_tier"' in page
    assert "custom_shoe_size" not in page
    assert '<span class="chip__label">Tier:</span> Gold' in page  # the filter in use, as a chip


def test_an_invalid_custom_filter_shows_no_companies(client: Client, acme, alice) -> None:
    _define(acme, "founded", "date", record_kind="company")
    initech = CompanyFactory(org=acme, name="Initech", custom={"founded": "1999-02-19"})
    client.force_login(alice)
    page = client.get("/o/acme/companies/?custom_founded=yesterday").content.decode()
    assert '<p class="list-footer__count" role="status">0 companies</p>' in page
    assert f"/o/acme/companies/{initech.pk}/" not in page


# --- Custom fields as columns -----------------------------------------------------------------


def test_the_column_chooser_offers_the_custom_fields(client: Client, acme, alice) -> None:
    _define(acme, "shoe_size", "number", label="Shoe size")
    _define(acme, "tier", "text", record_kind="company", label="Tier")
    client.force_login(alice)
    page = client.get("/o/acme/contacts/").content.decode()
    assert 'value="custom_shoe_size" id="column-custom_shoe_size">' in page  # not checked
    assert '<label class="field__label" for="column-custom_shoe_size">Shoe size</label>' in page
    assert "column-custom_tier" not in page
    page = client.get("/o/acme/companies/?columns=custom_tier").content.decode()
    assert 'value="custom_tier" id="column-custom_tier" checked>' in page


def test_the_list_shows_custom_columns_as_the_record_page_does(client: Client, acme, alice):
    _define(acme, "met_on", "date", label="Met on")
    _define(acme, "vip", "boolean", label="VIP")
    _define(acme, "topics", "multi_choice", label="Topics", choices=["Maths", "Poetry"])
    ContactFactory(org=acme, first_name="Ada", custom={"met_on": "1833-06-05", "vip": True,
                                             "topics": ["Maths", "Poetry"]})  # fmt: skip
    client.force_login(alice)
    page = client.get("/o/acme/contacts/?columns=custom_met_on,custom_vip,custom_topics")
    body = page.content.decode()
    assert '<th scope="col">Met on</th><th scope="col">VIP</th><th scope="col">Topics</th>' in body
    cells = ["5 Jun 1833", "Yes", "Maths, Poetry"]
    assert "".join(f'<td title="{text}">{text}</td>' for text in cells) in body


def test_a_custom_column_escapes_its_value(client: Client, acme, alice) -> None:
    _define(acme, "note", "text", record_kind="company")
    CompanyFactory(org=acme, name="Initech", custom={"note": "<script>alert(1)</script>"})
    client.force_login(alice)
    body = client.get("/o/acme/companies/?columns=custom_note").content.decode()
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert f'<td title="{escaped}">{escaped}</td>' in body


def test_a_saved_view_keeps_a_custom_column(client: Client, acme, alice) -> None:
    _define(acme, "shoe_size", "number", label="Shoe size")
    client.force_login(alice)
    data = {"name": "Sizes", "query": "", "columns": "custom_shoe_size,nope"}
    client.post("/o/acme/contacts/views/save/", data)
    with activate(acme):
        assert SavedView.objects.get().columns == ["name", "custom_shoe_size"]


def test_the_export_has_the_chosen_custom_field_columns(client: Client, acme, alice) -> None:
    _define(acme, "shoe_size", "number", label="Shoe size")
    _define(acme, "met_on", "date", label="Met on")
    _define(acme, "vip", "boolean", label="VIP")
    _define(acme, "topics", "multi_choice", label="Topics", choices=["Maths", "Poetry"])
    ContactFactory(org=acme, first_name="Ada", last_name="Lovelace", custom={
        "shoe_size": 38, "met_on": "1833-06-05", "vip": False, "topics": ["Maths", "Poetry"],
    })  # fmt: skip
    client.force_login(alice)
    url = "/o/acme/contacts/export/?columns=custom_topics,custom_met_on,custom_vip,custom_shoe_size"
    rows = _csv(client.get(url).content)
    assert rows == [
        ["First name", "Last name", "Topics", "Met on", "VIP", "Shoe size"],
        ["Ada", "Lovelace", "Maths; Poetry", "1833-06-05", "No", "38"],  # as an import reads
    ]
    assert "Shoe size" not in _csv(client.get("/o/acme/contacts/export/").content)[0]


def test_the_company_export_has_the_chosen_custom_field_columns(client: Client, acme, alice):
    _define(acme, "founded", "date", record_kind="company", label="Founded")
    CompanyFactory(org=acme, name="Initech", custom={"founded": "1999-02-19"})
    client.force_login(alice)
    rows = _csv(client.get("/o/acme/companies/export/?format=csv&columns=custom_founded").content)
    assert rows == [["Name", "Founded"], ["Initech", "1999-02-19"]]


def test_a_custom_column_neutralises_formulas(client: Client, acme, alice) -> None:
    _define(acme, "note", "text")
    ContactFactory(org=acme, first_name="Ada", custom={"note": "=cmd|' /C calc'!A0"})
    client.force_login(alice)
    rows = _csv(client.get("/o/acme/contacts/export/?columns=custom_note").content)
    assert rows[1] == ["Ada", "", "'=cmd|' /C calc'!A0"]


# --- Deleting a definition ------------------------------------------------------------------


def test_deleting_a_field_hides_it_and_keeps_the_values(client: Client, acme, alice) -> None:
    field = _define(acme, "shoe_size", "number", label="Shoe size")
    ada = ContactFactory(org=acme, first_name="Ada", custom={"shoe_size": 38})
    client.force_login(alice)
    confirm = client.get(f"{SETTINGS}{field.pk}/delete/").content.decode()
    assert "values already entered are kept" in confirm
    assert client.post(f"{SETTINGS}{field.pk}/delete/", follow=True).status_code == 200
    assert "Shoe size" not in client.get(f"/o/acme/contacts/{ada.pk}/").content.decode()
    assert (
        client.post(f"/o/acme/contacts/{ada.pk}/edit/", _contact_form(first_name="Ada")).status_code
        == 302
    )
    assert _custom(acme, ada) == {"shoe_size": 38}
    with activate(acme):
        assert AuditEvent.objects.filter(action="custom_field.deleted").exists()


def test_a_field_changed_after_it_was_cached_shows_changed(
    acme: Organization, django_capture_on_commit_callbacks: Any
) -> None:
    _define(acme, "tier", "text")
    with activate(acme), django_capture_on_commit_callbacks(execute=True):
        assert [f.key for f in custom_fields.definitions("contact")] == ["tier"]  # cached
        tier = CustomField.objects.get(key="tier")
        custom_fields.custom_field_save(
            org=acme, by=None, field=tier, record_kind="contact", key="tier", label="Level",
            kind="text", choices=[],
        )  # fmt: skip
        custom_fields.definitions("contact")  # read again before the change commits
    with activate(acme):
        assert [f.label for f in custom_fields.definitions("contact")] == ["Level"]
