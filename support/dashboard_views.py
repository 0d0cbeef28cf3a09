"""The support dashboard and its tables as CSV, for every role but reps."""

import csv
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from crm import dashboards
from crm.permissions import org_member
from crm.records.exports import neutralise
from crm.requests import OrgRequest
from support import dashboard

# Everyone who works or reads tickets; reps sell and have the pipeline dashboard.
VIEW = "support_dashboard.view"
DAY = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PeriodFilters(forms.Form):
    """The period at the top of the dashboard, read from the URL, as the pipeline
    dashboard's: a choice, and dates for a period of one's own."""

    period = forms.ChoiceField(choices=dashboards.PERIODS, required=False)

    def __init__(self, data: Any) -> None:
        super().__init__(data)
        # "from" and "to" in the URL: words a Python class cannot take as attribute names.
        self.fields["from"] = forms.DateField(required=False, widget=DAY, label="From")
        self.fields["to"] = forms.DateField(required=False, widget=DAY, label="To")

    def value(self, name: str) -> Any:
        """A filter's value when it is valid; None (its default) when it is not."""
        self.is_valid()
        return self.cleaned_data.get(name) if name not in self.errors else None


def _scope(request: OrgRequest) -> tuple[PeriodFilters, dashboard.Scope]:
    filters = PeriodFilters(request.GET)
    zone = ZoneInfo(request.org.time_zone)
    key = filters.value("period") or "this_month"
    fiscal = request.org.fiscal_year_start_month
    today = timezone.localdate(timezone=zone)
    first, last = dashboards.period_days(key, today, filters.value("from"), filters.value("to"),
                                         fiscal_start=fiscal)  # fmt: skip
    period = dashboards.Period(key, first, last, zone, fiscal)
    return filters, dashboard.scope_for(request.membership, period=period)


@require_GET
@org_member(VIEW)
def support(request: OrgRequest) -> HttpResponse:
    filters, scope = _scope(request)
    # ?now=1: a long period's figures read now rather than as kept (dashboard_figures).
    figures = dashboard.dashboard_figures(scope, now_please=request.GET.get("now") == "1")
    query = request.GET.copy()
    query.pop("now", None)
    context = {"filters": filters, "scope": scope, "cards": figures.cards, "figures": figures,
               "query": query.urlencode()}  # fmt: skip
    template = "support/dashboard.html" + ("#results" if request.htmx else "")
    return render(request, template, context)


@require_GET
@org_member(VIEW)
def support_csv(request: OrgRequest, table: str) -> HttpResponse:
    """One card's figures as CSV, with the page's period."""
    make = dashboard.CARDS[table]  # one route per table: no other name arrives here
    _, scope = _scope(request)
    if dashboards.is_kept(scope.period):  # the figures the page shows, as kept
        card = dashboard.dashboard_figures(scope).card(table)
    else:
        card = make(scope)
    name = f"support-{table}-{scope.period.first:%Y%m%d}-{scope.period.last:%Y%m%d}.csv"
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
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, int):
        return value
    return neutralise(str(value))
