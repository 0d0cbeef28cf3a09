"""Tenancy: the active organisation, and the two walls that keep organisations apart.

1. In the application: every tenant row inherits `TenantModel`, whose default manager
   filters by the organisation active in a context variable and raises when none is.
2. In the database: every tenant table has row-level security enabled and forced, with a
   policy comparing `org_id` to the transaction-local setting `app.org_id`; every foreign
   key between tenant tables is doubled by a composite `(org_id, x_id)` key, so a row can
   never point into another organisation.

`activate(org)` sets both, inside a transaction, and undoes both on exit. The database
constraints are added to every concrete `TenantModel` automatically (see
`install_tenant_constraints`), so `makemigrations` emits them and no model can forget them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction

if TYPE_CHECKING:
    from crm.models import Organization

_active_org: ContextVar[Organization | None] = ContextVar("active_org", default=None)

# The policy every tenant table carries. With no setting, nullif() gives NULL and the
# comparison is never true: a query outside an organisation sees no rows at all.
ORG_MATCHES = "org_id = nullif(current_setting('app.org_id', true), '')::bigint"
USER_MATCHES = "{column} = nullif(current_setting('app.user_id', true), '')::bigint"


class NoActiveOrg(RuntimeError):
    """A tenant query ran with no organisation active: a bug, never a thing to catch."""


def current_org() -> Organization | None:
    return _active_org.get()


def require_org() -> Organization:
    org = _active_org.get()
    if org is None:
        raise NoActiveOrg("No organisation is active: wrap the code in crm.tenancy.activate().")
    return org


def _set_database_org(org_id: int | None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('app.org_id', %s, true)", ["" if org_id is None else str(org_id)]
        )


@contextmanager
def activate(org: Organization) -> Iterator[Organization]:
    """Make `org` the active organisation for the ORM and for PostgreSQL, in a transaction.

    The database setting is transaction-local, so nothing survives on a pooled
    connection; when the block fails, rolling back its savepoint restores the previous
    setting, and on success it is restored explicitly.
    """
    previous = _active_org.get()
    token = _active_org.set(org)
    try:
        with transaction.atomic():
            _set_database_org(org.pk)
            yield org
            _set_database_org(previous.pk if previous else None)
    finally:
        _active_org.reset(token)


@contextmanager
def activate_for_request(org: Organization) -> Iterator[Organization]:
    """`activate` for a whole request, which the middleware runs in its own transaction: the
    database setting needs no savepoint, and no reset, as it ends with that transaction.

    Only when that transaction is itself inside another (a test's, which never commits) is
    the setting put back as it was, so that what runs after the request sees what it saw."""
    # Not an assert: this holds under `python -O` too.
    if not connection.in_atomic_block:
        raise RuntimeError("activate_for_request runs inside the request's transaction")
    previous = _active_org.get()
    token = _active_org.set(org)
    try:
        _set_database_org(org.pk)
        yield org
        if len(connection.atomic_blocks) > 1:
            _set_database_org(previous.pk if previous else None)
    finally:
        _active_org.reset(token)


def set_database_user(user_id: int | None) -> None:
    """Let this transaction read the signed-in user's own memberships in every organisation."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('app.user_id', %s, true)", ["" if user_id is None else str(user_id)]
        )


def cache_key(*parts: object) -> str:
    """A cache key inside the active organisation; refuses to build one outside any."""
    return ":".join(["org", str(require_org().pk), *map(str, parts)])


# --- The application wall --------------------------------------------------------------

M = TypeVar("M", bound=models.Model)


class TenantQuerySet(models.QuerySet[M], Generic[M]):
    """QuerySet of a tenant model; domain QuerySets add verbs to it."""

    def visible_to(self, membership: Any) -> TenantQuerySet[M]:
        """Only the rows this member may see, per the organisation's visibility for the role.

        A model says who owns its rows: `owner_field = "owner"` names the owner column,
        `owner_field = None` says every member sees all of them; a model that says nothing
        is refused (ImproperlyConfigured), so "everyone" is never the answer by silence.
        "own" keeps the member's rows, "team" adds the rows owned by anyone in one of their
        teams. Every list, search, export, count and dashboard filters through this.
        """
        from crm.models import Organization, TeamMember

        owner_field = owner_field_of(self.model)
        scope = require_org().visibility_for(membership.role)
        if owner_field is None or scope == Organization.Visibility.ALL:
            return self
        mine = models.Q(**{owner_field: membership.user_id})
        if scope == Organization.Visibility.OWN:
            return self.filter(mine)
        my_teams = TeamMember.objects.filter(membership=membership).values("team_id")
        teammates = TeamMember.objects.filter(team_id__in=my_teams).values("membership__user_id")
        return self.filter(mine | models.Q(**{f"{owner_field}__in": teammates}))


def owner_field_of(model: type[models.Model]) -> str | None:
    """The column naming who owns a row of `model`, or None when every member sees all its
    rows; ImproperlyConfigured when the model says neither."""
    if not any("owner_field" in vars(cls) for cls in model.__mro__):
        raise ImproperlyConfigured(
            f"{model.__name__} must say who owns its rows: owner_field = 'owner', or "
            "owner_field = None when every member sees all of them."
        )
    return getattr(model, "owner_field")  # noqa: B009 - declared on the class or a base


class TenantManager(models.Manager[M]):
    """The default manager of tenant rows: only the active organisation's, never unscoped."""

    def get_queryset(self) -> models.QuerySet[M]:
        org = current_org()
        if org is None:
            raise NoActiveOrg(
                f"{self.model.__name__}.objects was used with no organisation active."
            )
        return super().get_queryset().filter(org_id=org.pk)


TenantDefaultManager = TenantManager.from_queryset(TenantQuerySet)


class TenantModel(models.Model):
    """A row owned by exactly one organisation."""

    org = models.ForeignKey(
        "crm.Organization", on_delete=models.CASCADE, editable=False, related_name="+"
    )

    objects: ClassVar[TenantManager[Any]] = TenantDefaultManager()
    unscoped = models.Manager()  # system code only; every use says why in a comment

    # Set on a subclass whose rows the signed-in user may also read across organisations
    # (their own memberships, for the organisation switcher): the name of the user column.
    tenant_readable_by_user: ClassVar[str | None] = None
    # False on a table no row points at and written by the million (segment members): its
    # UNIQUE (org_id, id), what a same-organisation key points at, would be one more index
    # entry for every row. A same-organisation key made to it later creates it anyway.
    tenant_key: ClassVar[bool] = True

    class Meta:
        abstract = True


# --- The database wall -------------------------------------------------------------------


def _constraint_name(table: str, suffix: str) -> str:
    name = f"{table}_{suffix}"
    if len(name) <= 63:
        return name
    digest = hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()[:8]
    return f"{table[: 63 - len(suffix) - 10]}_{digest}_{suffix}"


class _DeferredDDL(models.BaseConstraint):
    """A constraint whose DDL runs after every table of the migration exists."""

    def constraint_sql(  # type: ignore[override]  # None: nothing inside CREATE TABLE
        self, model: type[models.Model] | None, schema_editor: Any
    ) -> None:
        # Called while building CREATE TABLE: queue the statements for the migration's end.
        schema_editor.deferred_sql.append(self.create_sql(model, schema_editor))
        return None

    def validate(self, *args: Any, **kwargs: Any) -> None:
        return None  # enforced by PostgreSQL alone

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.deconstruct() == other.deconstruct()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self.name)


class RowLevelSecurity(_DeferredDDL):
    """Row-level security, enabled and forced, with the organisation policy on one table."""

    def __init__(self, *, name: str, user_column: str | None = None) -> None:
        super().__init__(name=name)
        self.user_column = user_column

    def create_sql(self, model: type[models.Model] | None, schema_editor: Any) -> str:
        assert model is not None
        table = schema_editor.quote_name(model._meta.db_table)
        policy = schema_editor.quote_name(self.name)
        sql = (
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY; "
            f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY; "
            f"CREATE POLICY {policy} ON {table} USING ({ORG_MATCHES}) WITH CHECK ({ORG_MATCHES});"
        )
        if self.user_column:
            own = schema_editor.quote_name(f"{self.name}_own")
            column = schema_editor.quote_name(self.user_column)
            sql += (
                f" CREATE POLICY {own} ON {table} FOR SELECT"
                f" USING ({USER_MATCHES.format(column=column)});"
            )
        return sql

    def remove_sql(self, model: type[models.Model] | None, schema_editor: Any) -> str:
        assert model is not None
        table = schema_editor.quote_name(model._meta.db_table)
        sql = f"DROP POLICY IF EXISTS {schema_editor.quote_name(self.name)} ON {table}; "
        if self.user_column:
            sql += (
                f"DROP POLICY IF EXISTS {schema_editor.quote_name(self.name + '_own')} ON {table}; "
            )
        return sql + (
            f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY; "
            f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;"
        )

    def deconstruct(self) -> tuple[str, Sequence[Any], dict[str, Any]]:
        path, args, kwargs = super().deconstruct()
        if self.user_column:
            kwargs["user_column"] = self.user_column
        return path, args, kwargs


class TenantKey(_DeferredDDL):
    """UNIQUE (org_id, id): what a same-organisation foreign key points at.

    Created idempotently, because a SameOrgForeignKey ensures its target's key too:
    migrations may add the two in either order.
    """

    def create_sql(self, model: type[models.Model] | None, schema_editor: Any) -> str:
        assert model is not None
        table = schema_editor.quote_name(model._meta.db_table)
        name = self.name.replace("'", "''")
        # DDL cannot take parameters: the names are quoted identifiers and literals.
        return (
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = "  # nosec B608
            f"'{name}' AND conrelid = '{table}'::regclass) THEN ALTER TABLE {table} ADD "
            f"CONSTRAINT {schema_editor.quote_name(self.name)} UNIQUE (org_id, id); END IF; END $$;"
        )

    def remove_sql(self, model: type[models.Model] | None, schema_editor: Any) -> str:
        assert model is not None
        q = schema_editor.quote_name
        return f"ALTER TABLE {q(model._meta.db_table)} DROP CONSTRAINT IF EXISTS {q(self.name)}"


def tenant_key_name(table: str) -> str:
    return _constraint_name(table, "org_id_key")


class SameOrgForeignKey(_DeferredDDL):
    """A composite foreign key (org_id, field_id) → (org_id, id): no pointer across tenants."""

    def __init__(self, *, name: str, field: str) -> None:
        super().__init__(name=name)
        self.field = field

    def create_sql(self, model: type[models.Model] | None, schema_editor: Any) -> str:
        assert model is not None
        field = model._meta.get_field(self.field)
        target_model = field.related_model
        target = target_model._meta.db_table  # type: ignore[union-attr]
        q = schema_editor.quote_name
        target_key = TenantKey(name=tenant_key_name(target))
        return target_key.create_sql(target_model, schema_editor) + (  # type: ignore[arg-type]
            f" ALTER TABLE {q(model._meta.db_table)} ADD CONSTRAINT {q(self.name)} "
            f"FOREIGN KEY ({q('org_id')}, {q(field.column)}) "  # type: ignore[union-attr]
            f"REFERENCES {q(target)} ({q('org_id')}, {q('id')}) DEFERRABLE INITIALLY DEFERRED"
        )

    def remove_sql(self, model: type[models.Model] | None, schema_editor: Any) -> str:
        assert model is not None
        q = schema_editor.quote_name
        return f"ALTER TABLE {q(model._meta.db_table)} DROP CONSTRAINT IF EXISTS {q(self.name)}"

    def deconstruct(self) -> tuple[str, Sequence[Any], dict[str, Any]]:
        path, args, kwargs = super().deconstruct()
        kwargs["field"] = self.field
        return path, args, kwargs


def tenant_constraints(model: type[models.Model]) -> list[models.BaseConstraint]:
    """The constraints every tenant table must carry, in the order they are created."""
    table = model._meta.db_table
    user_column = getattr(model, "tenant_readable_by_user", None)
    if user_column:
        user_column = model._meta.get_field(user_column).column  # type: ignore[union-attr]
    found: list[models.BaseConstraint] = [
        *([TenantKey(name=tenant_key_name(table))] if getattr(model, "tenant_key", True) else []),
        RowLevelSecurity(name=_constraint_name(table, "tenant"), user_column=user_column),
    ]
    for field in model._meta.local_fields:
        related = getattr(field, "related_model", None)
        if field.name != "org" and isinstance(related, type) and issubclass(related, TenantModel):
            found.append(
                SameOrgForeignKey(
                    name=_constraint_name(table, f"{field.name}_same_org"), field=field.name
                )
            )
    return found


def install_tenant_constraints() -> None:
    """Give every concrete tenant model its constraints; run once all models are loaded.

    Called from CrmConfig.ready(), when string references such as "sales.Stage" are
    resolved, so that the migration autodetector and the schema editor both see them.
    """
    for model in apps.get_models():
        if not issubclass(model, TenantModel) or model._meta.proxy:
            continue
        names = {constraint.name for constraint in model._meta.constraints}
        model._meta.constraints = [
            *model._meta.constraints,
            *(c for c in tenant_constraints(model) if c.name not in names),
        ]
        # The migration state copies constraints only from a Meta that declared some.
        model._meta.original_attrs["constraints"] = model._meta.constraints
