"""A project's page: all a kind needs besides what the platform gives it."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from crm.permissions import org_member
from crm.records import registry
from crm.records.facts import record_facts
from crm.requests import OrgRequest
from crm.selectors import object_history


@require_GET
@org_member("project.view")
def project_detail(request: OrgRequest, project_id: int) -> HttpResponse:
    kind = registry.kind("project")
    project = get_object_or_404(kind.visible(request.membership), pk=project_id)
    context = {
        "project": project,
        "facts": record_facts(kind, project, request.membership),
        "history": object_history(project),
    }
    return render(request, "projects/project_detail.html", context)
