"""The deal board: a pipeline's deals by stage, filtered, each column with its totals, and
moving a deal by dragging its card or with its stage select (a plain form post too)."""

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from contacts import selectors as company_selectors
from crm.params import id_param
from crm.permissions import can, org_member
from crm.requests import OrgRequest
from sales import board, selectors, services
from sales.models import Deal, Pipeline, Stage
from sales.pipelines import pipelines_ensure

# deal_move's refusals that mean "the board you saw is out of date": the page shows it anew.
OUT_OF_DATE = {"stale", "gone"}


def _id(value: str | None) -> int:
    """An id from the query or the form; 404 for anything else."""
    found = id_param(value)
    if found is None:
        raise Http404
    return found


def _pipeline(request: OrgRequest, pipeline_id: int | None) -> tuple[Pipeline, list[Pipeline]]:
    """The board's pipeline (the first when none is named) and the ones to switch to."""
    pipelines = selectors.pipelines()
    if not pipelines:
        pipelines_ensure(org=request.org)  # the deals' pages make the first one
        pipelines = selectors.pipelines()
    if pipeline_id is None:
        if not pipelines:
            raise Http404
        return pipelines[0], pipelines
    found = next((p for p in pipelines if p.pk == pipeline_id), None)
    return found or get_object_or_404(Pipeline.objects, pk=pipeline_id), pipelines


def _board_url(request: OrgRequest, pipeline: Pipeline, *, query: Any = None) -> str:
    url = reverse("board:pipeline", args=[request.org.slug, pipeline.pk])
    query = request.GET if query is None else query
    return f"{url}?{query.urlencode()}" if query else url


def _filters_only(request: OrgRequest) -> Any:
    """The board's query without "Show more": what moves and redirects keep."""
    query = request.GET.copy()
    for name in ("stage", "show"):
        query.pop(name, None)
    return query


def _context(request: OrgRequest, pipeline: Pipeline, pipelines: list[Pipeline]) -> dict[str, Any]:
    """Everything the board page shows: its filters, its columns and their cards."""
    query = _filters_only(request)
    filters, found = board.board_deals(request.membership, pipeline, query)
    stages = selectors.pipeline_stages(pipeline)
    shown = {}
    if "stage" in request.GET and "show" in request.GET:  # "Show more" without JavaScript
        shown[_id(request.GET["stage"])] = min(_id(request.GET["show"]), board.MOST_SHOWN)
    currency = request.org.base_currency
    columns = board.board_columns(found, stages, currency=currency, shown=shown)
    cards = _cards(request, pipeline, stages, query)
    for column in columns:
        column.html = board.cards_html(column.cards, cards)
    new_url = reverse("deals:new", args=[request.org.slug]) + f"?pipeline={pipeline.pk}"
    return {
        "pipeline": pipeline, "pipelines": pipelines, "filter": filters, "columns": columns,
        "cards": cards, "count": sum(column.count for column in columns),
        "board_url": _board_url(request, pipeline, query={}), "query": query.urlencode(),
        "may_edit": can(request.membership, "deal.edit"), "new_url": new_url,
        "show_value": cards.show_value, "closed_days": board.CLOSED_DAYS,
        "company": _company(request, pipeline, filters, query),
    }  # fmt: skip


def _cards(request: OrgRequest, pipeline: Pipeline, stages: list[Stage], query: Any) -> board.Cards:
    move = reverse("board:move", args=[request.org.slug, pipeline.pk])
    return board.card_context(
        request.membership, pipeline, stages, csrf_token=get_token(request),
        move_url=f"{move}?{query.urlencode()}" if query else move,
    )  # fmt: skip


def _company(
    request: OrgRequest, pipeline: Pipeline, filters: board.BoardFilter, query: Any
) -> dict[str, Any] | None:
    """The company the board is filtered on (?company=<id>, from a company's page), named
    in a chip whose link removes it; None when there is none."""
    valid = filters.is_bound and filters.is_valid()
    company_id = filters.form.cleaned_data.get("company") if valid else None
    if not company_id:
        return None
    company_id = int(company_id)
    companies = company_selectors.company_list(request.membership)
    found = companies.filter(pk=company_id).values_list("name", flat=True).first()
    rest = query.copy()
    rest.pop("company", None)
    return {"pk": company_id, "name": found or f"#{company_id}",
            "remove_url": _board_url(request, pipeline, query=rest)}  # fmt: skip


@require_GET
@org_member("deal.view")
def board_page(request: OrgRequest, pipeline_id: int | None = None) -> HttpResponse:
    """A pipeline's board; htmx gets the board alone (filtered), or one column's next cards."""
    pipeline, pipelines = _pipeline(request, pipeline_id)
    if request.htmx and "stage" in request.GET and "show" in request.GET:
        return _more(request, pipeline)
    context = _context(request, pipeline, pipelines)
    template = "sales/board.html" + ("#board" if request.htmx else "")
    return render(request, template, context)


def _more(request: OrgRequest, pipeline: Pipeline) -> HttpResponse:
    """A column's next cards, with its next "Show more" link, for htmx to put in its place."""
    stage = get_object_or_404(pipeline.stages.all(), pk=_id(request.GET["stage"]))
    shown = min(_id(request.GET["show"]), board.MOST_SHOWN)
    query = _filters_only(request)
    _, found = board.board_deals(request.membership, pipeline, query)
    deals, count = board.column_cards(found, stage, shown=shown)
    cards = _cards(request, pipeline, selectors.pipeline_stages(pipeline), query)
    column = board.Column(stage, request.org.base_currency, count=count, shown=shown)
    column.html = board.cards_html(deals, cards)
    context = {"column": column, "query": query.urlencode(),
               "board_url": _board_url(request, pipeline, query={})}  # fmt: skip
    return render(request, "sales/board.html#more", context)


@require_POST
@org_member("deal.edit")
def board_move(request: OrgRequest, pipeline_id: int) -> HttpResponse:
    """Move a deal to the stage it was dropped on (or chosen in its select), if it is still
    where the member saw it. Into a lost stage, the lost form asks why first."""
    pipeline = get_object_or_404(Pipeline.objects, pk=pipeline_id)
    deal = _movable(request, _id(request.POST.get("deal")))
    stage = get_object_or_404(Stage.objects, pk=_id(request.POST.get("stage")))
    seen, was = request.POST.get("from_stage"), deal.stage_id
    try:
        if stage.pipeline_id != pipeline.pk:
            raise ValidationError("That stage belongs to another pipeline: nothing was moved.")
        services.deal_move(org=request.org, deal=deal, stage=stage, by=request.user,
                           expected_stage_id=_id(seen) if seen else None)  # fmt: skip
    except ValidationError as error:
        if "lost_reason" in getattr(error, "error_dict", {}):
            return _lost_form(request, pipeline, deal, stage)
        return _refused(request, pipeline, error)
    if stage.pk == was:
        return _moved(request, pipeline, f"“{deal}” is already in {stage}.")
    return _moved(request, pipeline, f"Moved “{deal}” to {stage}.")


def _movable(request: OrgRequest, deal_id: int) -> Deal:
    """The deal, among those the member may see (one moved to the Trash meanwhile too, so
    that the move can say so), if they may change it."""
    deal = selectors.deal_list(request.membership).filter(pk=deal_id).first()
    if deal is None:
        trashed = Deal.objects.trashed().visible_to(request.membership)
        deal = get_object_or_404(trashed, pk=deal_id)
    if not services.may_edit_deal(request.membership, deal):
        raise PermissionDenied
    return deal


def _lost_form(request: OrgRequest, pipeline: Pipeline, deal: Deal, stage: Stage) -> HttpResponse:
    back = _board_url(request, pipeline)
    url = reverse("deals:lost", args=[request.org.slug, deal.pk])
    url += "?" + urlencode({"stage": stage.pk, "next": back})
    if request.htmx:
        return HttpResponse(status=204, headers={"HX-Redirect": url})
    return redirect(url)


def _refused(request: OrgRequest, pipeline: Pipeline, error: ValidationError) -> HttpResponse:
    codes = {e.code for found in getattr(error, "error_dict", {}).values() for e in found}
    message = " ".join(error.messages)
    if not request.htmx:
        messages.error(request, message)
        return redirect(_board_url(request, pipeline))
    status = 409 if codes & OUT_OF_DATE else 400
    return _board(request, pipeline, message, tone="error", status=status)


def _moved(request: OrgRequest, pipeline: Pipeline, message: str) -> HttpResponse:
    if not request.htmx:
        messages.success(request, message)
        return redirect(_board_url(request, pipeline))
    return _board(request, pipeline, message, tone="success")


def _board(
    request: OrgRequest, pipeline: Pipeline, message: str, *, tone: str, status: int = 200
) -> HttpResponse:
    """The board region again, with what happened said above it."""
    context = _context(request, pipeline, selectors.pipelines())
    context |= {"status_message": message, "status_tone": tone}
    return render(request, "sales/board.html#board", context, status=status)
