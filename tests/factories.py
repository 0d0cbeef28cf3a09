"""Records for tests, made as the product makes them: through their services, inside their
organisation (so both walls apply), one organisation per record.

    ContactFactory(org=acme, first_name="Ada", tags=("VIP",))
    CompanyFactory(org=acme, name="Northwind")
    trash(acme, contact)

A factory never reaches into another organisation: what it makes belongs to `org`, and so
does everything it makes along the way (a tag, a company named by a contact).
"""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Protocol, TypeVar, cast

import factory

from contacts import services as contact_services
from contacts.models import Company, Contact
from crm.models import Organization, User
from crm.records import custom_fields, merging, registry, saved_views
from crm.records import services as records
from crm.records.models import CustomField, Merge, SavedView
from crm.tenancy import activate

R_co = TypeVar("R_co", covariant=True)


class Maker(Protocol[R_co]):
    """A factory as its callers see it: `ContactFactory(org=acme)` returns a Contact.

    factory-boy's metaclass makes calling a factory class return what it made; mypy reads a
    class call as making an instance of that class, so each factory below is also declared
    as what calling it returns."""

    def __call__(self, *, org: Organization, by: User | None = None, **values: Any) -> R_co: ...


class _ServiceFactory(factory.Factory):
    """Creates through `_make(org, by, **values)` with the organisation active: each factory
    below defines it, calling its kind's services."""

    _make: ClassVar[Callable[..., Any]]

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class: type, *args: Any, **kwargs: Any) -> Any:
        org: Organization = kwargs.pop("org")
        by: User | None = kwargs.pop("by", None)
        with activate(org):
            return cls._make(org, by, **kwargs)


class _ContactFactory(_ServiceFactory):
    """A contact; `tags` are names (created when new), `company` a Company."""

    class Meta:
        model = Contact

    @classmethod
    def _make(cls, org: Organization, by: User | None, **values: Any) -> Contact:
        if not ({"first_name", "last_name", "email"} & values.keys()):
            values["first_name"] = f"Person {next(_numbers)}"
        tags = contact_services.tags_by_name(org=org, names=values.pop("tags", ()), by=by)
        return contact_services.contact_create(org=org, by=by, tags=tags, **values)


ContactFactory = cast(Maker[Contact], _ContactFactory)


class _CompanyFactory(_ServiceFactory):
    """A company; `tags` are names (created when new)."""

    class Meta:
        model = Company

    @classmethod
    def _make(cls, org: Organization, by: User | None, **values: Any) -> Company:
        values.setdefault("name", f"Company {next(_numbers)}")
        tags = contact_services.tags_by_name(org=org, names=values.pop("tags", ()), by=by)
        return contact_services.company_create(org=org, by=by, tags=tags, **values)


CompanyFactory = cast(Maker[Company], _CompanyFactory)


class _CustomFieldFactory(_ServiceFactory):
    """A custom field of a kind ("contact" unless `record_kind` says otherwise)."""

    class Meta:
        model = CustomField

    @classmethod
    def _make(cls, org: Organization, by: User | None, **values: Any) -> CustomField:
        values.setdefault("record_kind", "contact")
        values.setdefault("kind", CustomField.Kind.TEXT)
        values.setdefault("label", values.get("key", "").replace("_", " ").capitalize())
        values.setdefault("key", "")
        values.setdefault("choices", [])
        return custom_fields.custom_field_save(org=org, by=by, **values)


CustomFieldFactory = cast(Maker[CustomField], _CustomFieldFactory)


class _SavedViewFactory(_ServiceFactory):
    """A saved view of a kind's list, owned by `by`."""

    class Meta:
        model = SavedView

    @classmethod
    def _make(cls, org: Organization, by: User | None, **values: Any) -> SavedView:
        assert by is not None, "a saved view belongs to someone: give by="
        values.setdefault("name", f"View {next(_numbers)}")
        values.setdefault("shared", False)
        values.setdefault("record_kind", "contact")
        return saved_views.saved_view_save(org=org, by=by, **values)


SavedViewFactory = cast(Maker[SavedView], _SavedViewFactory)


def _counter() -> Any:
    number = 0
    while True:
        number += 1
        yield number


_numbers = _counter()


def trash(org: Organization, record: Any, by: User | None = None) -> None:
    """Move one record to the Trash, as its Delete button does."""
    kind = registry.for_model(type(record))
    with activate(org):
        records.records_trash(org=org, by=by, kind=kind, ids=[record.pk])
        record.refresh_from_db(fields=["deleted_at", "updated_at"])


def merge(
    org: Organization, survivor: Any, others: Sequence[Any], *, by: User | None = None,
    values: dict[str, int] | None = None,
) -> Merge:  # fmt: skip
    """Merge `others` into `survivor` with each field's default value unless `values` says."""
    kind = registry.for_model(type(survivor))
    with activate(org):
        return merging.records_merge(
            org=org, kind=kind, survivor=survivor, others=list(others), values=values or {}, by=by
        )


class _ProjectFactory(_ServiceFactory):
    """A project, the record kind only the tests declare (tests/projects)."""

    class Meta:
        model = "projects.Project"

    @classmethod
    def _make(cls, org: Organization, by: User | None, **values: Any) -> Any:
        from tests.projects.services import project_create

        values.setdefault("name", f"Project {next(_numbers)}")
        tags = contact_services.tags_by_name(org=org, names=values.pop("tags", ()), by=by)
        return project_create(org=org, by=by, tags=tags, **values)


ProjectFactory = cast(Maker[Any], _ProjectFactory)  # tests.projects.models.Project


class _InteractionFactory(_ServiceFactory):
    """An interaction, a call unless `channel` says otherwise; `owner` is its author (the
    kind's owner field), `by` who logged it."""

    class Meta:
        model = "interactions.Interaction"

    @classmethod
    def _make(cls, org: Organization, by: User | None, **values: Any) -> Any:
        from interactions.services import interaction_log

        values.setdefault("channel", "call")
        values.setdefault("direction", "outbound")
        values.setdefault("subject", f"Interaction {next(_numbers)}")
        if "owner" in values:
            values["author"] = values.pop("owner")
        values.pop("tags", None)  # an interaction has none: the tests that need them skip it
        return interaction_log(org=org, by=by, **values)


InteractionFactory = cast(Maker[Any], _InteractionFactory)  # interactions.models.Interaction


class _TaskFactory(_ServiceFactory):
    """A task, due tomorrow unless `due_at` says otherwise; `owner` is its assignee (the
    kind's owner field), `by` who made it."""

    class Meta:
        model = "interactions.Task"

    @classmethod
    def _make(cls, org: Organization, by: User | None, **values: Any) -> Any:
        from interactions.services import task_create

        values.setdefault("title", f"Task {next(_numbers)}")
        values.setdefault("due_at", datetime.now(UTC) + timedelta(days=1))
        if "owner" in values:
            values["assignee"] = values.pop("owner")
        values.pop("tags", None)  # a task has none: the tests that need them skip it
        return task_create(org=org, by=by, **values)


TaskFactory = cast(Maker[Any], _TaskFactory)  # interactions.models.Task


class _PipelineFactory(_ServiceFactory):
    """A pipeline with the usual stages (qualification to won or lost)."""

    class Meta:
        model = "sales.Pipeline"

    @classmethod
    def _make(cls, org: Organization, by: User | None, **values: Any) -> Any:
        from sales.pipelines import pipeline_create

        values.setdefault("name", f"Pipeline {next(_numbers)}")
        return pipeline_create(org=org, by=by, **values)


PipelineFactory = cast(Maker[Any], _PipelineFactory)  # sales.models.Pipeline


class _StageFactory(_ServiceFactory):
    """An open stage of a new pipeline of its own (so: another pipeline's than a deal's)."""

    class Meta:
        model = "sales.Stage"

    @classmethod
    def _make(cls, org: Organization, by: User | None, **values: Any) -> Any:
        from sales.models import Stage
        from sales.pipelines import pipeline_create

        pipeline = values.pop("pipeline", None) or pipeline_create(
            org=org, by=by, name=f"Pipeline {next(_numbers)}", stages=()
        )
        values.setdefault("name", f"Stage {next(_numbers)}")
        values.setdefault("position", pipeline.stages.count())
        return Stage.objects.create(org=org, pipeline=pipeline, **values)


StageFactory = cast(Maker[Any], _StageFactory)  # sales.models.Stage


class _DealFactory(_ServiceFactory):
    """A deal in the organisation's first pipeline (made if there is none), in its first
    open stage unless `stage` says otherwise; `tags` are names."""

    class Meta:
        model = "sales.Deal"

    @classmethod
    def _make(cls, org: Organization, by: User | None, **values: Any) -> Any:
        from sales.models import Pipeline
        from sales.pipelines import pipelines_ensure
        from sales.services import deal_create

        pipelines_ensure(org=org)
        stage = values.get("stage")
        values.setdefault("pipeline", stage.pipeline if stage else Pipeline.objects.first())
        values.setdefault("title", f"Deal {next(_numbers)}")
        if names := values.pop("tags", None):
            values["tags"] = contact_services.tags_by_name(org=org, names=names, by=by)
        return deal_create(org=org, by=by, **values)


DealFactory = cast(Maker[Any], _DealFactory)  # sales.models.Deal


class _QueueFactory(_ServiceFactory):
    """A support queue, assigning by hand unless `assignment` says otherwise."""

    class Meta:
        model = "support.Queue"

    @classmethod
    def _make(cls, org: Organization, by: User | None, **values: Any) -> Any:
        from support.models import Queue

        values.setdefault("name", f"Queue {next(_numbers)}")
        return Queue.objects.create(org=org, **values)


QueueFactory = cast(Maker[Any], _QueueFactory)  # support.models.Queue


class _TicketFactory(_ServiceFactory):
    """A ticket in the organisation's first queue (made if there is none); `owner` is its
    assignee and `tags` are names."""

    class Meta:
        model = "support.Ticket"

    @classmethod
    def _make(cls, org: Organization, by: User | None, **values: Any) -> Any:
        from support.models import Queue
        from support.services import ticket_create

        if "queue" not in values:
            values["queue"] = Queue.objects.first() or QueueFactory(org=org, name="Support")
        values.setdefault("subject", f"Ticket {next(_numbers)}")
        if "owner" in values:
            values["assignee"] = values.pop("owner")
        if names := values.pop("tags", None):
            values["tags"] = contact_services.tags_by_name(org=org, names=names, by=by)
        return ticket_create(org=org, by=by, **values)


TicketFactory = cast(Maker[Any], _TicketFactory)  # support.models.Ticket


def _nth_interaction(n: int) -> dict[str, Any]:
    # A minute apart, the first the oldest: its list sorts by when.
    at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC) + timedelta(minutes=n)
    return {"subject": f"Interaction {n:03d}", "occurred_at": at}


# Per kind: its factory, and the values that make its nth record distinct and sortable by
# name, for the tests that run over every kind.
KIND_FACTORIES: dict[str, tuple[Maker[Any], Callable[[int], dict[str, Any]]]] = {
    "contact": (ContactFactory, lambda n: {"first_name": "Zed", "last_name": f"Row{n:03d}",
                                          "email": f"row{n:03d}@example.com"}),
    "company": (CompanyFactory, lambda n: {"name": f"Company {n:03d}"}),
    "project": (ProjectFactory, lambda n: {"name": f"Project {n:03d}"}),
    "interaction": (InteractionFactory, _nth_interaction),
    "task": (TaskFactory, lambda n: {"title": f"Task {n:03d}"}),
    "deal": (DealFactory, lambda n: {"title": f"Deal {n:03d}"}),
    "ticket": (TicketFactory, lambda n: {"subject": f"Ticket {n:03d}"}),
}  # fmt: skip


def make_record(record_kind: str, org: Organization, n: int, **values: Any) -> Any:
    """The nth record of a kind in `org`, with `values` over its distinct defaults."""
    factory_class, defaults = KIND_FACTORIES[record_kind]
    return factory_class(org=org, **{**defaults(n), **values})
