"""A project: the smallest record kind, with an owner, tags, custom values and a Trash."""

from typing import ClassVar

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from crm.tenancy import TenantManager, TenantModel, TenantQuerySet


class ProjectQuerySet(TenantQuerySet["Project"]):
    def alive(self) -> "ProjectQuerySet":
        return self.filter(deleted_at__isnull=True)


class Project(TenantModel):
    """Something a team works on."""

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        ACTIVE = "active", "Active"
        DONE = "done", "Done"

    name = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNED)
    owner = models.ForeignKey(
        "crm.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    custom = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    search_text = models.GeneratedField(
        expression=Lower("name"), output_field=models.TextField(), db_persist=True
    )

    objects: ClassVar[TenantManager["Project"]] = TenantManager.from_queryset(ProjectQuerySet)()  # type: ignore[assignment]

    owner_field = "owner"

    class Meta:
        ordering = ("name",)
        indexes = [
            models.Index(fields=["org", "name", "id"], name="project_org_name"),
            GinIndex(OpClass("search_text", name="gin_trgm_ops"), name="project_search_trgm"),
        ]

    def __str__(self) -> str:
        return self.name


class ProjectTag(TenantModel):
    """A tag on a project."""

    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="tag_links"
    )
    tag = models.ForeignKey("contacts.Tag", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "tag"], name="projecttag_once")]
