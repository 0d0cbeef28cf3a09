"""The quick search of the top bar and the palette: records, pages and actions."""

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from crm import find as finder
from crm.params import text_param
from crm.permissions import org_member
from crm.requests import OrgRequest


@require_GET
@org_member()
def find(request: OrgRequest) -> HttpResponse:
    term = text_param(request.GET, "q").strip()
    context = {
        "q": term,
        "groups": finder.find(request.membership, term),
        "too_short": bool(term) and not finder.searches_records(term),
    }
    # The palette asks with htmx for its list of options; the top bar's form, without
    # JavaScript, for the whole page.
    template = "crm/_find_options.html" if request.htmx else "crm/find.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response
