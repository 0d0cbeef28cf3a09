"""Settings → Follow-up rules: the organisation's rules in one form (admins and owners)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from crm.forms import apply_errors
from crm.permissions import org_member
from crm.requests import OrgRequest
from interactions import followups
from interactions.forms import FollowUpRulesForm


@require_http_methods(["GET", "POST"])
@org_member("org.manage")
def followup_settings(request: OrgRequest) -> HttpResponse:
    data = request.POST if request.method == "POST" else None  # an unticked box posts nothing
    form = FollowUpRulesForm(data, rules=followups.followup_rules())
    if form.is_valid():
        try:
            followups.followup_rules_save(org=request.org, by=request.user, values=form.values())
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Saved the follow-up rules.")
            return redirect("interactions:followups", request.org.slug)
    context = {"form": form, "section": "followups"}
    return render(request, "interactions/followups.html", context)
