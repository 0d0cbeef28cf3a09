"""/o/<org>/settings/pipelines/…: the pipelines in order with their stages; adding,
renaming, reordering and archiving a pipeline."""

import pytest

from crm.models import AuditEvent
from crm.tenancy import activate
from sales.models import Pipeline
from sales.pipelines import pipelines_ensure
from tests.factories import DealFactory, PipelineFactory, trash

pytestmark = pytest.mark.django_db

PAGE = "/o/acme/settings/pipelines/"


def _pipelines(acme) -> list[tuple[str, int, bool]]:
    with activate(acme):
        return list(Pipeline.objects.values_list("name", "stale_days", "is_archived"))


@pytest.fixture
def default(acme) -> Pipeline:
    """The pipeline a new organisation gets, as its first page view makes it."""
    with activate(acme):
        pipelines_ensure(org=acme)
        return Pipeline.objects.get()


def test_a_new_organisation_sees_its_default_pipeline(client, acme, alice):
    client.force_login(alice)
    body = client.get(PAGE).content.decode()
    assert "Sales pipeline" in body
    for stage in ("Qualification", "Negotiation", "Won", "Lost"):
        assert stage in body
    assert '<span class="badge badge--success">Won</span>' in body
    assert '<td class="num">75%<span class="settings-unit">' in body
    assert _pipelines(acme) == [("Sales pipeline", 14, False)]


def test_it_counts_the_deals_in_each_stage_without_the_trash(client, acme, alice):
    DealFactory(org=acme)
    DealFactory(org=acme)
    trash(acme, DealFactory(org=acme))
    client.force_login(alice)
    body = client.get(PAGE).content.decode()
    assert "2 deals · stale after 14 days" in body
    assert '<td class="num">2<span class="settings-unit"> deals</span></td>' in body


def test_it_adds_a_pipeline_with_the_usual_stages(client, acme, alice):
    client.force_login(alice)
    client.get(PAGE)
    response = client.post(f"{PAGE}new/", {"name": "Renewals", "stale_days": "30"})
    with activate(acme):
        pipeline = Pipeline.objects.get(name="Renewals")
        stages = list(pipeline.stages.values_list("name", flat=True))
    assert response.url == f"{PAGE}{pipeline.pk}/"
    assert (pipeline.position, pipeline.stale_days) == (1, 30)
    assert stages[0] == "Qualification"


@pytest.mark.parametrize(
    ("name", "stale_days", "message"),
    [
        ("", "14", "Give it a name."),
        ("sales PIPELINE", "14", "There is already a pipeline called “sales PIPELINE”."),
        ("Renewals", "0", "Give a whole number of days, from 1 to 365."),
        ("Renewals", "soon", "Give a whole number of days, from 1 to 365."),
    ],
)  # fmt: skip
def test_it_refuses_a_bad_pipeline_beside_the_field(client, acme, alice, name, stale_days, message):
    client.force_login(alice)
    client.get(PAGE)
    response = client.post(f"{PAGE}new/", {"name": name, "stale_days": stale_days})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert _pipelines(acme) == [("Sales pipeline", 14, False)]


def test_it_renames_a_pipeline_and_shows_its_history(client, acme, alice, default):
    pipeline = default
    client.force_login(alice)
    response = client.post(f"{PAGE}{pipeline.pk}/", {"name": "New business", "stale_days": "7"})
    assert response.status_code == 302
    assert _pipelines(acme) == [("New business", 7, False)]
    body = client.get(f"{PAGE}{pipeline.pk}/").content.decode()
    assert "Sales pipeline → New business" in body


def test_a_refused_rename_keeps_the_saved_name_in_the_title(client, acme, alice, default):
    PipelineFactory(org=acme, name="Renewals")
    pipeline = default
    client.force_login(alice)
    response = client.post(f"{PAGE}{pipeline.pk}/", {"name": "renewals", "stale_days": "14"})
    body = response.content.decode()
    assert "There is already a pipeline called “renewals”." in body
    assert "<h1>Pipeline Sales pipeline</h1>" in body


def test_it_moves_a_pipeline_up_by_a_plain_post(client, acme, alice, default):
    renewals = PipelineFactory(org=acme, name="Renewals")
    client.force_login(alice)
    response = client.post(f"{PAGE}{renewals.pk}/move/", {"direction": "up"})
    assert response.status_code == 302
    assert [name for name, _, _ in _pipelines(acme)] == ["Renewals", "Sales pipeline"]


def test_it_swaps_the_list_in_its_new_order_with_htmx(client, acme, alice, default):
    PipelineFactory(org=acme, name="Renewals")
    first = default
    client.force_login(alice)
    response = client.post(f"{PAGE}{first.pk}/move/", {"direction": "down"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="pipelines"')
    assert "<html" not in body
    assert body.index("Renewals") < body.index("Sales pipeline")


def test_a_move_in_no_direction_changes_nothing(client, acme, alice, default):
    PipelineFactory(org=acme, name="Renewals")
    client.force_login(alice)
    response = client.post(f"{PAGE}{default.pk}/move/", {"direction": "left"}, follow=True)
    assert "Move it up or down." in response.content.decode()
    assert [name for name, _, _ in _pipelines(acme)] == ["Sales pipeline", "Renewals"]


def test_it_archives_a_pipeline_and_brings_it_back(client, acme, alice, default):
    PipelineFactory(org=acme, name="Renewals")
    first = default
    client.force_login(alice)
    client.post(f"{PAGE}{first.pk}/archive/")
    assert _pipelines(acme)[0] == ("Sales pipeline", 14, True)
    assert "Bring back the pipeline" in client.get(f"{PAGE}{first.pk}/").content.decode()
    client.post(f"{PAGE}{first.pk}/archive/")
    assert _pipelines(acme)[0] == ("Sales pipeline", 14, False)
    with activate(acme):
        assert AuditEvent.objects.filter(action="pipeline.unarchived").count() == 1


def test_it_refuses_to_archive_the_last_pipeline_in_use(client, acme, alice, default):
    client.force_login(alice)
    response = client.post(f"{PAGE}{default.pk}/archive/", follow=True)
    assert "is the only pipeline in use" in response.content.decode()
    assert _pipelines(acme) == [("Sales pipeline", 14, False)]


def test_it_pins_the_queries_of_the_list(client, acme, alice, django_assert_max_num_queries):
    for number in range(4):
        PipelineFactory(org=acme, name=f"Pipeline {number}")
        DealFactory(org=acme)
    client.force_login(alice)
    with django_assert_max_num_queries(12):
        assert client.get(PAGE).status_code == 200


def test_it_pins_the_queries_of_a_pipelines_page(client, acme, alice, default,
                                                 django_assert_max_num_queries):  # fmt: skip
    DealFactory(org=acme)
    pipeline = default
    client.force_login(alice)
    with django_assert_max_num_queries(13):
        assert client.get(f"{PAGE}{pipeline.pk}/").status_code == 200


def test_it_is_in_the_settings_navigation(client, alice):
    client.force_login(alice)
    link = f'<a href="{PAGE}" aria-current="page">Pipelines</a>'
    assert link in client.get(PAGE).content.decode()
    assert f'href="{PAGE}"' in client.get("/o/acme/settings/").content.decode()
