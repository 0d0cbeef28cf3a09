"""A deal's pages: add, read, edit, move to another stage, win, lose, reopen and delete.
The list is the platform's (crm.records), the board sales.board_views'."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from contacts import selectors as contact_selectors
from crm.forms import apply_errors
from crm.params import id_param, local_next
from crm.permissions import can, org_member
from crm.records import services as records
from crm.records.facts import record_facts
from crm.records.views import gone
from crm.records.views.trash import say_trashed
from crm.requests import OrgRequest
from crm.selectors import object_history
from sales import pipelines, selectors, services
from sales.forms import DealForm, LostForm, WonForm, contact_text, deal_form_save, initial_for
from sales.models import Deal, Stage
from sales.records import DEAL, DEAL_TAGS


def _deal(request: OrgRequest, deal_id: int) -> Deal | None:
    # Through the member's visible deals: another organisation's id, or a colleague's deal
    # a rep may not see, answers the same 404 as a missing one. None: not alive (`gone`).
    found = selectors.deal_list(request.membership).prefetch_related(DEAL_TAGS.prefetch())
    return found.filter(pk=deal_id).first()


def _editable(request: OrgRequest, deal_id: int) -> Deal | HttpResponse:
    deal = _deal(request, deal_id)
    if deal is None:  # deleted in another tab, perhaps: say where it went
        return gone(request, DEAL, deal_id)
    if not services.may_edit_deal(request.membership, deal):
        raise PermissionDenied
    return deal


def _next(request: OrgRequest, deal: Deal) -> str:
    """Where to go after an action: the page it came from (the board), else the deal's."""
    return local_next(request) or reverse("deals:detail", args=[request.org.slug, deal.pk])


@require_GET
@org_member("deal.view")
def deal_detail(request: OrgRequest, deal_id: int) -> HttpResponse:
    found = selectors.with_other_contacts(selectors.deal_list(request.membership))
    deal = found.prefetch_related(DEAL_TAGS.prefetch()).filter(pk=deal_id).first()
    if deal is None:
        return gone(request, DEAL, deal_id)
    context = {
        "deal": deal,
        "facts": record_facts(DEAL, deal, request.membership),
        "stages": selectors.pipeline_stages(deal.pipeline),
        "stage_history": selectors.stage_history(deal),
        "others": [_person(found) for found in getattr(deal, "other_people", [])],
        "history": object_history(deal),
        "can_edit": services.may_edit_deal(request.membership, deal),
        "sees_value": can(request.membership, "deal.view_value"),
    }
    return render(request, "sales/deal_detail.html", context)


def _person(found: dict[str, Any]) -> dict[str, Any]:
    name = f"{found['first'] or ''} {found['last'] or ''}".strip()
    return {"pk": found["id"], "name": name or found["email"] or f"Contact {found['id']}"}


def _new_initial(request: OrgRequest) -> dict[str, Any]:
    """A new deal's form: the member's, in the base currency, in the first open stage of the
    pipeline asked for (?pipeline=<id>), for the contact or company it is added from."""
    pipelines.pipelines_ensure(org=request.org)
    initial: dict[str, Any] = {"owner": request.user.pk, "currency": request.org.base_currency}
    stages = Stage.objects.filter(kind=Stage.Kind.OPEN, is_archived=False)
    if (pipeline_id := id_param(request.GET.get("pipeline"))) is not None:
        stages = stages.filter(pipeline_id=pipeline_id)
    first = stages.order_by("pipeline__position", "pipeline_id", "position").first()
    initial["stage"] = first.pk if first else None
    contact_id, company_id = (
        id_param(request.GET.get("contact")),
        id_param(request.GET.get("company")),
    )
    if contact_id is not None:
        people = contact_selectors.contact_list(request.membership)
        contact = people.filter(pk=contact_id).first()
        if contact is not None:
            initial["contact"] = contact_text(contact)
            initial["company"] = contact.company_name
    elif company_id is not None:
        companies = contact_selectors.company_list(request.membership)
        company = companies.filter(pk=company_id).first()
        initial["company"] = company.name if company else ""
    return initial


@require_http_methods(["GET", "POST"])
@org_member("deal.edit")
def deal_new(request: OrgRequest) -> HttpResponse:
    form = DealForm(
        request.POST or None, initial=_new_initial(request), membership=request.membership
    )
    if form.is_valid():
        deal = deal_form_save(form, org=request.org, by=request.user, record=None)
        if deal is not None:
            messages.success(request, f"Added the deal “{deal}”.")
            return redirect("deals:detail", request.org.slug, deal.pk)
    status = 400 if form.errors else 200
    return render(request, "sales/deal_form.html", {"form": form, "deal": None}, status=status)


@require_http_methods(["GET", "POST"])
@org_member("deal.edit")
def deal_edit(request: OrgRequest, deal_id: int) -> HttpResponse:
    deal = _editable(request, deal_id)
    if isinstance(deal, HttpResponse):
        return deal
    initial = initial_for(deal)
    form = DealForm(request.POST or None, initial=initial, membership=request.membership, deal=deal)
    if form.is_valid() and (saved := deal_form_save(form, org=request.org, by=request.user,
                                                    record=deal)):  # fmt: skip
        messages.success(request, f"Saved “{saved}”.")
        return redirect("deals:detail", request.org.slug, saved.pk)
    status = 400 if form.errors else 200
    return render(request, "sales/deal_form.html", {"form": form, "deal": deal}, status=status)


def _stage_of(deal: Deal, value: str) -> Stage:
    """A stage of the deal's pipeline in this organisation, from the posted id: 404 for any
    other (another organisation's, another pipeline's)."""
    if (stage_id := id_param(value)) is None:
        raise ValidationError("Choose a stage.")
    return get_object_or_404(Stage.objects, pk=stage_id, pipeline_id=deal.pipeline_id)


@require_POST
@org_member("deal.edit")
def deal_move(request: OrgRequest, deal_id: int) -> HttpResponse:
    """Move a deal to another stage of its pipeline (its page's stage bar). Into a lost
    stage, it goes to the form that asks why; a won stage wins it."""
    deal = _editable(request, deal_id)
    if isinstance(deal, HttpResponse):
        return deal
    try:
        stage = _stage_of(deal, request.POST.get("stage", ""))
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect(_next(request, deal))
    if stage.kind == Stage.Kind.LOST:
        url = f"{reverse('deals:lost', args=[request.org.slug, deal.pk])}?stage={stage.pk}"
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    expected_id = id_param(request.POST.get("from_stage"))
    return _move(request, deal, stage, expected_stage_id=expected_id)


def _move(request: OrgRequest, deal: Deal, stage: Stage, **options: Any) -> HttpResponse:
    try:
        services.deal_move(org=request.org, deal=deal, stage=stage, by=request.user, **options)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _moved(deal, stage))
    url = _next(request, deal)
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _moved(deal: Deal, stage: Stage) -> str:
    if stage.kind == Stage.Kind.WON:
        return f"Won “{deal}”. Well done."
    if stage.kind == Stage.Kind.LOST:
        return f"Marked “{deal}” as lost."
    return f"Moved “{deal}” to {stage.name}."


@require_http_methods(["GET", "POST"])
@org_member("deal.edit")
def deal_won(request: OrgRequest, deal_id: int) -> HttpResponse:
    deal = _editable(request, deal_id)
    if isinstance(deal, HttpResponse):
        return deal
    form = WonForm(request.POST or None, deal=deal, initial=_first_stage(request, WonForm, deal))
    if form.is_valid():
        try:
            services.deal_win(org=request.org, deal=deal, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _moved(deal, form.cleaned_data["stage"]))
            url = _next(request, deal)
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    context = {"deal": deal, "form": form, "next": _next(request, deal)}
    return render(request, "sales/deal_won.html", context, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@org_member("deal.edit")
def deal_lost(request: OrgRequest, deal_id: int) -> HttpResponse:
    """Why the deal was lost (the reason is required), then into the lost stage."""
    deal = _editable(request, deal_id)
    if isinstance(deal, HttpResponse):
        return deal
    form = LostForm(request.POST or None, deal=deal, initial=_first_stage(request, LostForm, deal))
    if form.is_valid():
        return _move(request, deal, form.cleaned_data["stage"],
                     lost_reason=form.cleaned_data["lost_reason"],
                     lost_note=form.cleaned_data["lost_note"])  # fmt: skip
    context = {"deal": deal, "form": form, "next": _next(request, deal)}
    return render(request, "sales/deal_lost.html", context, status=400 if form.errors else 200)


def _first_stage(request: OrgRequest, form_class: Any, deal: Deal) -> dict[str, Any]:
    """The stage asked for (?stage=<id>), else the first of the form's choices."""
    choices = form_class(deal=deal).fields["stage"].queryset
    asked = id_param(request.GET.get("stage"))
    found = choices.filter(pk=asked).first() if asked is not None else None
    found = found or choices.order_by("position", "id").first()
    return {"stage": found.pk if found else None}


@require_POST
@org_member("deal.edit")
def deal_reopen(request: OrgRequest, deal_id: int) -> HttpResponse:
    """Open a won or lost deal again, in the open stage it was in before it closed."""
    deal = _editable(request, deal_id)
    if isinstance(deal, HttpResponse):
        return deal
    stage = selectors.stage_before_closing(deal)
    if stage is None:
        messages.error(request, f"{deal.pipeline} has no open stage to reopen it in.")
        return redirect(_next(request, deal))
    return _move(request, deal, stage)


@require_http_methods(["GET", "POST"])
@org_member("deal.edit")
def deal_delete(request: OrgRequest, deal_id: int) -> HttpResponse:
    deal = _editable(request, deal_id)
    if isinstance(deal, HttpResponse):
        return deal
    if request.method == "POST":
        records.records_trash(org=request.org, by=request.user, kind=DEAL, ids=[deal.pk])
        say_trashed(request, deal)
        return redirect("deal:list", request.org.slug)
    return render(request, "sales/deal_delete.html", {"deal": deal})
