"""The pipeline dashboard, its tables as CSV, and Settings → Targets."""

import csv
from datetime import date
from decimal import Decimal
from typing import Any, cast
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from crm import dashboards
from crm.models import Team, User
from crm.permissions import can, org_member
from crm.records.exports import neutralise
from crm.requests import OrgRequest
from crm.selectors import org_users
from sales import dashboard, pipelines, selectors
from sales.models import Pipeline, Stage
from sales.money import money

# Support agents never see what deals are worth: no dashboard for them.
VALUE = "deal.view_value"
DAY = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class DashboardFilters(forms.Form):
    """The filters at the top of the dashboard, read from the URL. Reps have no owner or
    team to choose: they see their own deals."""

    pipeline = forms.ModelChoiceField(queryset=Pipeline.unscoped.none(), required=False,
                                      empty_label=None)  # fmt: skip
    period = forms.ChoiceField(choices=dashboards.PERIODS, required=False)
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False,
                                   empty_label="Everyone")  # fmt: skip
    team = forms.ModelChoiceField(queryset=Team.unscoped.none(), required=False,
                                  empty_label="Any team")  # fmt: skip

    def __init__(self, data: Any, *, org_wide: bool, choices: list[Pipeline]) -> None:
        super().__init__(data)
        # "from" and "to" in the URL: words a Python class cannot take as attribute names.
        self.fields["from"] = forms.DateField(required=False, widget=DAY, label="From")
        self.fields["to"] = forms.DateField(required=False, widget=DAY, label="To")
        field = cast(forms.ModelChoiceField, self.fields["pipeline"])
        field.queryset = Pipeline.objects.filter(pk__in=[p.pk for p in choices])
        field.choices = [(p.pk, p.name) for p in choices]  # no second query to list them
        if org_wide:  # the choices read once each, in a plain query (not a cursor's three)
            people = list(org_users().only("first_name", "last_name", "email"))
            owner = cast(forms.ModelChoiceField, self.fields["owner"])
            owner.queryset = org_users()
            owner.choices = [("", "Everyone"), *((u.pk, u.display_name) for u in people)]
            team = cast(forms.ModelChoiceField, self.fields["team"])
            team.queryset = Team.objects.all()
            team.choices = [("", "Any team"), *((t.pk, t.name) for t in team.queryset)]
        else:
            del self.fields["owner"], self.fields["team"]

    def value(self, name: str) -> Any:
        """A filter's value when it is valid; None (its default) when it is not."""
        self.is_valid()
        return self.cleaned_data.get(name) if name not in self.errors else None


def _scope(request: OrgRequest) -> tuple[DashboardFilters, dashboard.Scope]:
    pipelines.pipelines_ensure(org=request.org)  # a new organisation has its first one
    # The pipelines in use; when every one is archived, the first, to show something.
    choices = selectors.pipelines() or list(Pipeline.objects.order_by("position", "id")[:1])
    org_wide = can(request.membership, dashboard.ALL)
    filters = DashboardFilters(request.GET, org_wide=org_wide, choices=choices)
    pipeline = filters.value("pipeline") or choices[0]
    zone = ZoneInfo(request.org.time_zone)
    today = timezone.localdate(timezone=zone)
    key = filters.value("period") or "this_month"
    fiscal = request.org.fiscal_year_start_month  # quarters and years are the fiscal ones
    first, last = dashboards.period_days(key, today, filters.value("from"), filters.value("to"),
                                        fiscal_start=fiscal)  # fmt: skip
    # Archived stages too: deals may still be in them.
    stages = list(Stage.objects.filter(pipeline=pipeline).order_by("position", "id"))
    scope = dashboard.scope_for(
        request.membership, pipeline=pipeline, stages=stages,
        period=dashboards.Period(key, first, last, zone, fiscal),
        owner=filters.value("owner") if org_wide else None,
        team=filters.value("team") if org_wide else None,
    )  # fmt: skip
    return filters, scope


@require_GET
@org_member(VALUE)
def pipeline(request: OrgRequest) -> HttpResponse:
    filters, scope = _scope(request)
    # ?now=1: a long period's figures read now rather than as kept (dashboard.Keeper).
    figures = dashboard.KEEPER.figures(scope, now_please=request.GET.get("now") == "1")
    query = request.GET.copy()
    query.pop("now", None)
    context = {"filters": filters, "scope": scope, "cards": figures.cards, "figures": figures,
               "query": query.urlencode()}  # fmt: skip
    template = "sales/dashboard.html" + ("#results" if request.htmx else "")
    return render(request, template, context)


@require_GET
@org_member(VALUE)
def pipeline_csv(request: OrgRequest, table: str) -> HttpResponse:
    """One card's figures as CSV, with the page's filters."""
    make = dashboard.CARDS[table]  # one route per table: no other name arrives here
    _, scope = _scope(request)
    if dashboards.is_kept(scope.period):  # the figures the page shows, as kept
        card = dashboard.KEEPER.figures(scope).card(table)
    else:
        card = make(scope)
    name = f"{table}-{scope.period.first:%Y%m%d}-{scope.period.last:%Y%m%d}.csv"
    response = HttpResponse(
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
    response.write("\ufeff")  # a spreadsheet then reads it as UTF-8
    writer = csv.writer(response)
    for row in card.csv_rows():
        writer.writerow([_csv(value) for value in row])
    return response


def _csv(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Decimal | int):
        return f"{value:f}" if isinstance(value, Decimal) else value
    return neutralise(str(value))


# --- Settings → Targets -------------------------------------------------------------------


class TargetForm(forms.Form):
    """A month's target for one rep or one team."""

    month = forms.DateField(
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        input_formats=["%Y-%m", "%Y-%m-%d"], help_text="The month it is for.",
    )  # fmt: skip
    user = forms.ModelChoiceField(queryset=User.objects.none(), required=False, label="Rep",
                                  empty_label="—")  # fmt: skip
    team = forms.ModelChoiceField(queryset=Team.unscoped.none(), required=False,
                                  empty_label="—")  # fmt: skip
    amount = forms.DecimalField(
        min_value=Decimal(0), max_digits=14, decimal_places=2, required=False,
        help_text="In the base currency. Leave it empty to remove the target.",
    )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["user"]).queryset = org_users()
        cast(forms.ModelChoiceField, self.fields["team"]).queryset = Team.objects.all()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("user")) == bool(data.get("team")):
            raise forms.ValidationError("Choose a rep or a team: one of the two.")
        return data


@require_http_methods(["GET", "POST"])
@org_member("settings.configure")
def targets(request: OrgRequest) -> HttpResponse:
    today = timezone.localdate(timezone=ZoneInfo(request.org.time_zone))
    first = date(today.year, today.month, 1)
    form = TargetForm(request.POST or None, initial={"month": first})
    if form.is_valid():
        data = form.cleaned_data
        dashboard.target_set(
            org=request.org, by=request.user, month=data["month"], amount=data["amount"],
            user=data["user"], team=data["team"],
        )  # fmt: skip
        messages.success(request, f"Saved the target for {data['month']:%B %Y}.")
        return redirect("dashboards:targets", request.org.slug)
    currency = request.org.base_currency
    shown = [(t, money(t.amount, currency)) for t in dashboard.targets_of(first)]
    context = {"form": form, "targets": shown, "section": "targets"}
    return render(request, "sales/dashboard_targets.html", context)
