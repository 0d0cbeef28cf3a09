"""One project and its tag link in an organisation, for the isolation tests."""

from typing import Any

from django.db import models

from contacts.services import tags_by_name
from crm.models import Organization, User
from tests.projects.models import Project, ProjectTag
from tests.projects.services import project_create

URL_KWARGS: dict[str, type[models.Model]] = {"project_id": Project}


def seed(org: Organization, admin: User) -> dict[type[models.Model], Any]:
    tags = tags_by_name(org=org, names=[f"{org.name} VIP"], by=admin)
    project = project_create(org=org, by=admin, name=f"{org.name} Secret Project", tags=tags)
    return {Project: project, ProjectTag: ProjectTag.objects.get(project=project)}
