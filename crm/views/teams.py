"""Teams: create, edit (name, lead, members), delete."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from crm import services
from crm.forms import TeamForm, apply_errors
from crm.models import Team, TeamMember
from crm.permissions import org_member
from crm.requests import OrgRequest
from crm.selectors import object_history, team_list


@require_GET
@org_member("org.manage")
def teams(request: OrgRequest) -> HttpResponse:
    return render(request, "crm/settings/teams.html", {"teams": team_list(), "section": "teams"})


@require_http_methods(["GET", "POST"])
@org_member("org.manage")
def team_edit(request: OrgRequest, team_id: int | None = None) -> HttpResponse:
    team = get_object_or_404(Team.objects, pk=team_id) if team_id else None
    initial = {}
    if team:
        members = TeamMember.objects.filter(team=team).values_list("membership_id", flat=True)
        initial = {"name": team.name, "lead": team.lead_id, "members": list(members)}
    form = TeamForm(request.POST or None, initial=initial)
    if form.is_valid():
        data = form.cleaned_data
        try:
            team = services.team_save(
                org=request.org, by=request.user, team=team, name=data["name"],
                lead=data["lead"], members=list(data["members"]),
            )  # fmt: skip
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"Saved the team {team.name}.")
            return redirect("crm:teams", request.org.slug)
    history = object_history(team) if team else []
    context = {"form": form, "team": team, "history": history, "section": "teams"}
    return render(request, "crm/settings/team_form.html", context)


@require_http_methods(["GET", "POST"])
@org_member("org.manage")
def team_delete(request: OrgRequest, team_id: int) -> HttpResponse:
    team = get_object_or_404(Team.objects, pk=team_id)
    if request.method == "POST":
        services.team_delete(org=request.org, team=team, by=request.user)
        messages.success(request, f"Deleted the team {team.name}. Its members keep their access.")
        return redirect("crm:teams", request.org.slug)
    return render(request, "crm/settings/team_delete.html", {"team": team, "section": "teams"})
