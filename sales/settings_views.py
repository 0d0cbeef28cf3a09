"""Settings → Pipelines (their stages and order), Lost reasons and Exchange rates: admins
only. Every page first gives a new organisation its default pipeline, so that there is
something to set up."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from crm.forms import apply_errors
from crm.permissions import org_member
from crm.requests import OrgRequest
from crm.selectors import object_history
from sales import pipelines as services
from sales.models import Deal, ExchangeRate, LostReason, Pipeline, Stage
from sales.settings_forms import LostReasonForm, PipelineForm, RateForm, StageForm

CONFIGURE = "settings.configure"


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def _with_counts(pipelines: list[Pipeline]) -> list[Pipeline]:
    """Each pipeline's stages (prefetched), each stage and pipeline with `deal_count`: the
    deals in it, the Trash's left out. One query whatever the number of stages."""
    counts = dict(Deal.objects.alive().order_by().values_list("stage_id").annotate(n=Count("id")))
    for pipeline in pipelines:
        stages = list(pipeline.stages.all())
        for stage in stages:
            stage.deal_count = counts.get(stage.pk, 0)  # type: ignore[attr-defined]
        pipeline.deal_count = sum(s.deal_count for s in stages)  # type: ignore[attr-defined]
    return pipelines


def _pipeline(pipeline_id: int) -> Pipeline:
    return get_object_or_404(Pipeline.objects, pk=pipeline_id)


def _stage(pipeline_id: int, stage_id: int) -> Stage:
    query = Stage.objects.select_related("pipeline")
    return get_object_or_404(query, pk=stage_id, pipeline_id=pipeline_id)


def _stages_context(pipeline: Pipeline) -> dict[str, Any]:
    fresh = Pipeline.objects.prefetch_related("stages").filter(pk=pipeline.pk)
    return {"pipeline": _with_counts(list(fresh))[0]}


# --- Pipelines --------------------------------------------------------------------------------


@require_http_methods(["GET"])
@org_member(CONFIGURE)
def pipeline_list(request: OrgRequest) -> HttpResponse:
    services.pipelines_ensure(org=request.org)
    pipelines = _with_counts(list(Pipeline.objects.prefetch_related("stages")))
    template = "sales/settings/pipelines.html" + ("#pipelines" if request.htmx else "")
    return render(request, template, {"pipelines": pipelines})


@require_http_methods(["GET", "POST"])
@org_member(CONFIGURE)
def pipeline_new(request: OrgRequest) -> HttpResponse:
    services.pipelines_ensure(org=request.org)
    form = PipelineForm(request.POST or None)
    if form.is_valid():
        try:
            pipeline = services.pipeline_create(
                org=request.org, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"Added {pipeline}, with the usual stages: adjust them here.")
            return redirect("pipelines:edit", request.org.slug, pipeline.pk)
    return render(request, "sales/settings/pipeline_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
@org_member(CONFIGURE)
def pipeline_edit(request: OrgRequest, pipeline_id: int) -> HttpResponse:
    services.pipelines_ensure(org=request.org)
    pipeline = _pipeline(pipeline_id)
    initial = {"name": pipeline.name, "stale_days": pipeline.stale_days}
    form = PipelineForm(request.POST or None, initial=initial)
    if form.is_valid():
        try:
            services.pipeline_update(
                org=request.org, pipeline=pipeline, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            apply_errors(form, error)
            pipeline.refresh_from_db()  # the page's title keeps its saved name
        else:
            messages.success(request, f"Saved {pipeline}.")
            return redirect("pipelines:edit", request.org.slug, pipeline.pk)
    context = _stages_context(pipeline) | {"form": form, "history": object_history(pipeline)}
    return render(request, "sales/settings/pipeline_edit.html", context)


@require_POST
@org_member(CONFIGURE)
def pipeline_move(request: OrgRequest, pipeline_id: int) -> HttpResponse:
    pipeline = _pipeline(pipeline_id)
    error = ""
    try:
        services.pipeline_reorder(
            org=request.org, pipeline=pipeline, by=request.user,
            direction=request.POST.get("direction", ""),
        )  # fmt: skip
    except ValidationError as refused:
        error = _error_text(refused)
    if request.htmx:  # the list again, in its new order
        pipelines = _with_counts(list(Pipeline.objects.prefetch_related("stages")))
        context = {"pipelines": pipelines, "pipelines_error": error}
        return render(request, "sales/settings/pipelines.html#pipelines", context)
    if error:
        messages.error(request, error)
    return redirect("pipelines:list", request.org.slug)


@require_POST
@org_member(CONFIGURE)
def pipeline_archive(request: OrgRequest, pipeline_id: int) -> HttpResponse:
    pipeline = _pipeline(pipeline_id)
    archived = not pipeline.is_archived
    try:
        services.pipeline_archive(
            org=request.org, pipeline=pipeline, by=request.user, archived=archived
        )
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        done = "Archived" if archived else "Brought back"
        messages.success(request, f"{done} {pipeline}.")
    return redirect("pipelines:edit", request.org.slug, pipeline.pk)


# --- Stages -----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@org_member(CONFIGURE)
def stage_new(request: OrgRequest, pipeline_id: int) -> HttpResponse:
    services.pipelines_ensure(org=request.org)
    pipeline = _pipeline(pipeline_id)
    form = StageForm(request.POST or None)
    if form.is_valid():
        try:
            stage = services.stage_create(
                org=request.org, pipeline=pipeline, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"Added the stage {stage} to {pipeline}.")
            return redirect("pipelines:edit", request.org.slug, pipeline.pk)
    return render(request, "sales/settings/stage_form.html", {"form": form, "pipeline": pipeline})


@require_http_methods(["GET", "POST"])
@org_member(CONFIGURE)
def stage_edit(request: OrgRequest, pipeline_id: int, stage_id: int) -> HttpResponse:
    services.pipelines_ensure(org=request.org)
    stage = _stage(pipeline_id, stage_id)
    initial = {"name": stage.name, "probability": stage.probability, "kind": stage.kind}
    form = StageForm(request.POST or None, initial=initial)
    if form.is_valid():
        try:
            services.stage_update(
                org=request.org, stage=stage, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            apply_errors(form, error)
            stage.refresh_from_db()
        else:
            messages.success(request, f"Saved the stage {stage}.")
            return redirect("pipelines:edit", request.org.slug, stage.pipeline_id)
    context = {"form": form, "stage": stage, "pipeline": stage.pipeline,
               "history": object_history(stage)}  # fmt: skip
    return render(request, "sales/settings/stage_form.html", context)


@require_POST
@org_member(CONFIGURE)
def stage_move(request: OrgRequest, pipeline_id: int, stage_id: int) -> HttpResponse:
    stage = _stage(pipeline_id, stage_id)
    error = ""
    try:
        services.stage_reorder(
            org=request.org, stage=stage, by=request.user,
            direction=request.POST.get("direction", ""),
        )  # fmt: skip
    except ValidationError as refused:
        error = _error_text(refused)
    if request.htmx:  # the stages again, in their new order
        context = _stages_context(stage.pipeline) | {"stages_error": error}
        return render(request, "sales/settings/pipeline_edit.html#stages", context)
    if error:
        messages.error(request, error)
    return redirect("pipelines:edit", request.org.slug, stage.pipeline_id)


@require_POST
@org_member(CONFIGURE)
def stage_archive(request: OrgRequest, pipeline_id: int, stage_id: int) -> HttpResponse:
    stage = _stage(pipeline_id, stage_id)
    archived = not stage.is_archived
    try:
        services.stage_archive(org=request.org, stage=stage, by=request.user, archived=archived)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        done = "Archived the stage" if archived else "Brought back the stage"
        messages.success(request, f"{done} {stage}.")
    return redirect("pipelines:edit", request.org.slug, stage.pipeline_id)


@require_http_methods(["GET", "POST"])
@org_member(CONFIGURE)
def stage_delete(request: OrgRequest, pipeline_id: int, stage_id: int) -> HttpResponse:
    services.pipelines_ensure(org=request.org)
    stage = _stage(pipeline_id, stage_id)
    error = ""
    if request.method == "POST":
        try:
            services.stage_delete(org=request.org, stage=stage, by=request.user)
        except ValidationError as refused:
            error = _error_text(refused)
        else:
            messages.success(request, f"Deleted the stage {stage}.")
            return redirect("pipelines:edit", request.org.slug, stage.pipeline_id)
    held = Deal.objects.filter(stage=stage).count()  # the Trash's too: they block it
    context = {"stage": stage, "pipeline": stage.pipeline, "held": held, "error": error}
    return render(request, "sales/settings/stage_delete.html", context)


# --- Lost reasons -----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@org_member(CONFIGURE)
def reason_list(request: OrgRequest) -> HttpResponse:
    services.pipelines_ensure(org=request.org)
    form = LostReasonForm(request.POST or None)
    if form.is_valid():
        try:
            reason = services.lost_reason_create(
                org=request.org, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"Added the reason {reason}.")
            return redirect("pipelines:reasons", request.org.slug)
    context = {"reasons": list(LostReason.objects.all()), "form": form}
    return render(request, "sales/settings/reasons.html", context)


@require_http_methods(["GET", "POST"])
@org_member(CONFIGURE)
def reason_edit(request: OrgRequest, reason_id: int) -> HttpResponse:
    services.pipelines_ensure(org=request.org)
    reason = get_object_or_404(LostReason.objects, pk=reason_id)
    form = LostReasonForm(request.POST or None, initial={"name": reason.name})
    if form.is_valid():
        try:
            services.lost_reason_update(
                org=request.org, reason=reason, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            apply_errors(form, error)
            reason.refresh_from_db()
        else:
            messages.success(request, f"Saved the reason {reason}.")
            return redirect("pipelines:reasons", request.org.slug)
    context = {"form": form, "reason": reason, "history": object_history(reason)}
    return render(request, "sales/settings/reason_form.html", context)


@require_POST
@org_member(CONFIGURE)
def reason_archive(request: OrgRequest, reason_id: int) -> HttpResponse:
    reason = get_object_or_404(LostReason.objects, pk=reason_id)
    archived = not reason.is_archived
    services.lost_reason_archive(org=request.org, reason=reason, by=request.user, archived=archived)
    done = "Archived the reason" if archived else "Brought back the reason"
    messages.success(request, f"{done} {reason}.")
    return redirect("pipelines:reasons", request.org.slug)


# --- Exchange rates ---------------------------------------------------------------------------


def _rates_shown() -> list[ExchangeRate]:
    """The rates by currency, newest first, each with `shown` (no trailing zeros) and
    `latest`: the one each currency's open deals are valued at."""
    rates, seen = list(ExchangeRate.objects.all()), set()
    for rate in rates:
        rate.shown = f"{rate.rate.normalize():f}"  # type: ignore[attr-defined]
        rate.latest = rate.currency not in seen  # type: ignore[attr-defined]
        seen.add(rate.currency)
    return rates


@require_http_methods(["GET", "POST"])
@org_member(CONFIGURE)
def rate_list(request: OrgRequest) -> HttpResponse:
    services.pipelines_ensure(org=request.org)
    form = RateForm(request.POST or None, base=request.org.base_currency)
    if form.is_valid():
        try:
            rate = services.rate_set(org=request.org, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            shown = f"1 {rate.currency} = {rate.rate.normalize():f} {request.org.base_currency}"
            messages.success(request, f"Saved: {shown} from {rate.valid_from:%-d %b %Y}.")
            return redirect("pipelines:rates", request.org.slug)
    context = {"rates": _rates_shown(), "form": form, "base": request.org.base_currency}
    return render(request, "sales/settings/rates.html", context)


@require_http_methods(["GET", "POST"])
@org_member(CONFIGURE)
def rate_delete(request: OrgRequest, rate_id: int) -> HttpResponse:
    services.pipelines_ensure(org=request.org)
    rate = get_object_or_404(ExchangeRate.objects, pk=rate_id)
    if request.method == "POST":
        services.rate_delete(org=request.org, rate=rate, by=request.user)
        messages.success(request, f"Deleted the {rate.currency} rate from {rate.valid_from}.")
        return redirect("pipelines:rates", request.org.slug)
    shown = f"{rate.rate.normalize():f}"
    context = {"rate": rate, "shown": shown, "base": request.org.base_currency}
    return render(request, "sales/settings/rate_delete.html", context)
