"""Writes to projects."""

from typing import Any

from django.db import transaction

from contacts.models import Tag
from crm.audit import audit_record, diff
from crm.models import Organization, User
from crm.records.custom_fields import clean_custom
from crm.records.versions import check_version
from tests.projects.models import Project, ProjectTag


@transaction.atomic
def project_create(
    *, org: Organization, by: User | None, tags: list[Tag] | None = None, **fields: Any
) -> Project:
    """Add a project."""
    if "custom" in fields:
        fields["custom"] = clean_custom("project", fields["custom"])
    project = Project(org=org, **fields)
    project.full_clean(exclude=["org", "search_text"])
    project.save()
    ProjectTag.objects.bulk_create(
        [ProjectTag(org=org, project=project, tag=t) for t in tags or []]
    )
    audit_record(org=org, actor=by, action="project.created", target=project)
    return project


@transaction.atomic
def project_update(
    *, org: Organization, project: Project, by: User | None, version: str | None = None,
    **fields: Any,
) -> Project:  # fmt: skip
    """Change some of a project's fields; refused if it changed since `version`."""
    check_version(project, version, "project")
    if "custom" in fields:
        fields["custom"] = clean_custom("project", fields["custom"], keep=project.custom)
    before = {field: getattr(project, field) for field in fields}
    for field, value in fields.items():
        setattr(project, field, value)
    project.full_clean(exclude=["org", "search_text"])
    project.save()
    changes = diff(before, fields)
    if changes:
        audit_record(org=org, actor=by, action="project.updated", target=project, changes=changes)
    return project
