"""Projects as a record kind: one declaration, nothing else in crm or contacts."""

from typing import Any, cast

import django_filters
from django.db.models import QuerySet

from contacts.services import tags_by_name
from crm.models import Membership
from crm.records import bulk
from crm.records import columns as c
from crm.records import facts as f
from crm.records.filters import RecordFilter
from crm.records.imports.fields import OWNER, TAGS, Target, choice, text
from crm.records.imports.importer import Importer, Match
from crm.records.registry import Kind, Tags
from tests.projects.forms import ProjectForm, project_form_save, project_initial
from tests.projects.models import Project, ProjectTag


def project_list(membership: Membership) -> QuerySet[Project]:
    """The projects this member may see, with what a row of the list shows."""
    found = Project.objects.alive().visible_to(membership)  # type: ignore[attr-defined]
    return cast(QuerySet[Project], found.select_related("owner"))


class ProjectFilter(RecordFilter):
    status = django_filters.ChoiceFilter(choices=Project.Status.choices, empty_label="Any")
    sort = django_filters.OrderingFilter(
        fields=(("name", "name"), ("status", "status"), ("created_at", "created")),
        label="Sort by", empty_label="Name (default)",
    )  # fmt: skip

    class Meta:
        model = Project
        fields: list[str] = []


def _tags(**kwargs: Any) -> list[Any]:
    return tags_by_name(**kwargs)


PROJECT = Kind(
    key="project",
    model=Project,
    noun="project",
    nouns="projects",
    url_prefix="projects",
    visible=project_list,
    filterset=ProjectFilter,
    columns=[
        c.Column("name", "Name", c.link("name", "projects:detail"), c.plain("name"), sort="name"),
        c.Column("status", "Status", c.choice("status"), c.choice_label("status"), sort="status"),
        c.OWNER,
        c.TAGS,
        c.created(),
    ],
    default_columns=("name", "status", "owner", "tags"),
    default_order=("name",),
    detail_url="projects:detail",
    row_reads=("name",),
    empty_text="Projects your teams work on.",
    searchable=True,
    custom_fields=True,
    tags=Tags(link=ProjectTag, field="project", by_name=_tags),
    bulk_actions=(
        bulk.ASSIGN_OWNER,
        bulk.ADD_TAG,
        bulk.REMOVE_TAG,
        bulk.set_field(
            "change_status", "Change status", "status", "Status", Project.Status.choices, "status"
        ),
        bulk.TRASH,
    ),
    facts=f.Facts(
        facts=(f.text("name", "Name"), f.choice("status", "Status"), f.OWNER, f.ADDED),
        form=ProjectForm,
        initial=project_initial,
        save=project_form_save,
    ),
    imports=Importer(
        targets=[
            Target("name", "Name", text(200), ("name", "project", "projectname")),
            Target("status", "Status", choice(Project.Status.choices, "status"), ("status",)),
            OWNER,
            TAGS,
        ],
        match={"name": Match("name", "name", "Name", lowered=True)},
        plain=("name", "status", "owner"),
        needs=("name",),
        needs_message="Map a column to the project's name.",
        new_needs=("name",),
        new_needs_message="A new project needs a name.",
        new_needs_column="name",
    ),
)
