"""/o/<org>/settings/pipelines/<id>/stages/…: a pipeline's stages, added, edited, moved,
archived and deleted from its page."""

import pytest

from crm.tenancy import activate
from sales.models import Pipeline, Stage
from sales.pipelines import pipelines_ensure
from tests.factories import DealFactory, PipelineFactory, trash

pytestmark = pytest.mark.django_db


@pytest.fixture
def pipeline(acme) -> Pipeline:
    with activate(acme):
        pipelines_ensure(org=acme)
        return Pipeline.objects.get()


def _page(pipeline: Pipeline) -> str:
    return f"/o/acme/settings/pipelines/{pipeline.pk}/"


def _stages(acme, pipeline) -> list[tuple[str, int, str, bool]]:
    with activate(acme):
        return list(pipeline.stages.values_list("name", "probability", "kind", "is_archived"))


def _stage(acme, pipeline, name: str) -> Stage:
    with activate(acme):
        return Stage.objects.get(pipeline=pipeline, name=name)


def _stage_page(pipeline: Pipeline, stage: Stage) -> str:
    return f"{_page(pipeline)}stages/{stage.pk}/"


def test_the_pipelines_page_lists_its_stages_with_their_actions(client, alice, pipeline):
    client.force_login(alice)
    body = client.get(_page(pipeline)).content.decode()
    assert "Qualification" in body
    assert "Move Qualification down" in body
    assert body.count("Delete…") == 6
    assert f'href="{_page(pipeline)}stages/new/"' in body


def test_it_adds_a_stage_before_won_and_lost(client, acme, alice, pipeline):
    client.force_login(alice)
    response = client.post(
        f"{_page(pipeline)}stages/new/", {"name": "Demo", "probability": "60", "kind": "open"}
    )
    assert response.url == _page(pipeline)
    assert [name for name, *_ in _stages(acme, pipeline)][-3:] == ["Demo", "Won", "Lost"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"probability": "-5"}, "Give a whole number from 0 to 100."),
        ({"probability": "101"}, "Give a whole number from 0 to 100."),
        ({"probability": "lots"}, "Give a whole number from 0 to 100."),
        ({"name": ""}, "Give it a name."),
        ({"name": "  "}, "Give it a name."),
        ({"name": "PROPOSAL"}, "Sales pipeline already has a stage called “PROPOSAL”."),
        ({"kind": "maybe"}, "Choose open, won or lost."),
    ],
)  # fmt: skip
def test_it_refuses_bad_input_beside_the_field(client, acme, alice, pipeline, values, message):
    before = _stages(acme, pipeline)
    client.force_login(alice)
    form = {"name": "Demo", "probability": "60", "kind": "open"} | values
    for path in (
        f"{_page(pipeline)}stages/new/",
        _stage_page(pipeline, _stage(acme, pipeline, "Discovery")),
    ):
        response = client.post(path, form)
        assert response.status_code == 200, path
        assert message in response.content.decode(), path
    assert _stages(acme, pipeline) == before


def test_it_edits_a_stage(client, acme, alice, pipeline):
    stage = _stage(acme, pipeline, "Proposal")
    client.force_login(alice)
    assert 'value="Proposal"' in client.get(_stage_page(pipeline, stage)).content.decode()
    form = {"name": "Offer sent", "probability": "55", "kind": "open"}
    assert client.post(_stage_page(pipeline, stage), form).status_code == 302
    assert _stages(acme, pipeline)[2] == ("Offer sent", 55, "open", False)


def test_it_refuses_to_change_the_kind_of_a_stage_with_deals(client, acme, alice, pipeline):
    stage = _stage(acme, pipeline, "Proposal")
    DealFactory(org=acme, stage=stage)
    client.force_login(alice)
    form = {"name": "Proposal", "probability": "50", "kind": "won"}
    response = client.post(_stage_page(pipeline, stage), form)
    assert "Move its 1 deal to another stage before changing its kind." in response.content.decode()
    assert _stages(acme, pipeline)[2] == ("Proposal", 50, "open", False)


def test_a_stage_of_another_pipeline_answers_404_under_this_one(client, acme, alice, pipeline):
    other = PipelineFactory(org=acme, name="Renewals")
    stage = _stage(acme, other, "Proposal")
    client.force_login(alice)
    assert client.get(_stage_page(pipeline, stage)).status_code == 404
    assert client.post(f"{_stage_page(pipeline, stage)}delete/").status_code == 404
    assert len(_stages(acme, other)) == 6


def test_it_moves_a_stage_down_by_a_plain_post(client, acme, alice, pipeline):
    stage = _stage(acme, pipeline, "Qualification")
    client.force_login(alice)
    response = client.post(f"{_stage_page(pipeline, stage)}move/", {"direction": "down"})
    assert response.url == _page(pipeline)
    assert [name for name, *_ in _stages(acme, pipeline)][:2] == ["Discovery", "Qualification"]


def test_it_swaps_the_stages_in_their_new_order_with_htmx(client, acme, alice, pipeline):
    stage = _stage(acme, pipeline, "Discovery")
    client.force_login(alice)
    response = client.post(
        f"{_stage_page(pipeline, stage)}move/", {"direction": "up"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="stages"')
    assert body.index("Discovery") < body.index("Qualification")


def test_it_archives_a_stage_and_brings_it_back(client, acme, alice, pipeline):
    stage = _stage(acme, pipeline, "Discovery")
    client.force_login(alice)
    client.post(f"{_stage_page(pipeline, stage)}archive/")
    assert _stages(acme, pipeline)[1] == ("Discovery", 25, "open", True)
    body = client.get(_page(pipeline)).content.decode()
    assert 'Bring back<span class="visually-hidden"> Discovery</span>' in body
    client.post(f"{_stage_page(pipeline, stage)}archive/")
    assert _stages(acme, pipeline)[1] == ("Discovery", 25, "open", False)


def test_it_keeps_the_last_open_stage_in_use(client, acme, alice):
    pipeline = PipelineFactory(org=acme, stages=(("Only", 10, "open"), ("Won", 100, "won")))
    stage = _stage(acme, pipeline, "Only")
    client.force_login(alice)
    response = client.post(f"{_stage_page(pipeline, stage)}archive/", follow=True)
    assert "Only is the only open stage of its pipeline in use" in response.content.decode()
    response = client.post(f"{_stage_page(pipeline, stage)}delete/")
    assert "Only is the only open stage of its pipeline in use" in response.content.decode()
    assert _stages(acme, pipeline)[0] == ("Only", 10, "open", False)


def test_it_asks_before_deleting_a_stage(client, acme, alice, pipeline):
    stage = _stage(acme, pipeline, "Discovery")
    client.force_login(alice)
    body = client.get(f"{_stage_page(pipeline, stage)}delete/").content.decode()
    assert "Delete the stage <strong>Discovery</strong>" in body
    assert len(_stages(acme, pipeline)) == 6
    assert client.post(f"{_stage_page(pipeline, stage)}delete/").url == _page(pipeline)
    assert "Discovery" not in [name for name, *_ in _stages(acme, pipeline)]


def test_it_refuses_to_delete_a_stage_that_holds_deals(client, acme, alice, pipeline):
    stage = _stage(acme, pipeline, "Discovery")
    DealFactory(org=acme, stage=stage)
    trash(acme, DealFactory(org=acme, stage=stage))
    client.force_login(alice)
    body = client.get(f"{_stage_page(pipeline, stage)}delete/").content.decode()
    assert "holds 2 deals (the Trash's included)" in body
    assert 'class="btn btn--danger"' not in body
    response = client.post(f"{_stage_page(pipeline, stage)}delete/")
    assert response.status_code == 200
    assert "Move its 2 deals to another stage first." in response.content.decode()
    assert "Discovery" in [name for name, *_ in _stages(acme, pipeline)]
