"""Writing many rows at once: COPY into a temporary table, then one INSERT or UPDATE from it.

PostgreSQL refuses `COPY FROM` into a table with row-level security, so rows go into a
temporary table (which has none) and then into the real one by one statement, which the
policy checks row by row as usual: this is as walled as any ORM write, and many times
faster than one INSERT per row. Call these inside a transaction with an organisation
active; the temporary tables are dropped when it commits.
"""

import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.db import connection, models
from django.utils import timezone
from psycopg.types.json import Jsonb

_names = itertools.count()


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(connection.ops.quote_name(name) for name in names)


def stage(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """COPY `rows` into a new temporary table with `table`'s types for `columns`; its name.

    Values are adapted as psycopg adapts them (lists as arrays); JSON goes as Jsonb.
    """
    name = f"stage_{table}_{next(_names)}"
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        # The names are quoted identifiers; DDL takes no parameters.
        cursor.execute(
            f"CREATE TEMP TABLE {q(name)} ON COMMIT DROP AS "  # noqa: S608  # nosec B608
            f"SELECT {_quoted(columns)} FROM {q(table)} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY {q(name)} ({_quoted(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    return name


def _statement(sql: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return int(cursor.rowcount)


def insert_records(
    model: type[models.Model], records: Iterable[dict[str, Any]], *, with_ids: bool = False
) -> int:
    """Insert rows of `model` given as {attname: value}; a field left out takes its default
    (an `auto_now` field, the time now), as Model.save() would give it. With `with_ids`,
    every record carries its "id" (from next_ids); otherwise the table numbers them."""
    fields = [f for f in model._meta.concrete_fields if not f.generated and f.attname != "id"]
    if with_ids:
        fields.insert(0, model._meta.pk)
    now = timezone.now()
    plans = [_column(f, now) for f in fields]

    def rows() -> Iterator[list[Any]]:
        for record in records:
            row = []
            for name, default, fresh, json in plans:
                value = record[name] if name in record else type(default)() if fresh else default
                row.append(_json(value) if json else value)
            yield row

    table, columns = model._meta.db_table, [f.column for f in fields]
    staged = stage(table, columns, rows())
    q = connection.ops.quote_name
    # Bandit B608: names from the model's _meta and stage(), quoted; the rows went by COPY.
    return _statement(
        f"INSERT INTO {q(table)} ({_quoted(columns)}) "  # noqa: S608  # nosec B608
        f"SELECT {_quoted(columns)} FROM {q(staged)}"
    )


def update_records(
    model: type[models.Model], names: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """UPDATE `model`'s fields `names` (attnames) from rows of (id, *values); the number updated."""
    fields = [model._meta.get_field(name) for name in names]
    json = [isinstance(f, models.JSONField) for f in fields]
    columns = [str(f.column) for f in fields]  # type: ignore[union-attr]
    table = model._meta.db_table
    typed = (
        [row[0], *(_json(v) if j else v for v, j in zip(row[1:], json, strict=True))]
        for row in rows
    )
    staged = stage(table, ["id", *columns], typed)
    q = connection.ops.quote_name
    assignments = ", ".join(f"{q(column)} = s.{q(column)}" for column in columns)
    # Bandit B608: names from the model's _meta and stage(), quoted; the rows went by COPY.
    return _statement(
        f"UPDATE {q(table)} AS t SET {assignments} FROM {q(staged)} AS s "  # noqa: S608  # nosec B608
        "WHERE t.id = s.id"
    )


def _column(field: Any, now: Any) -> tuple[str, Any, bool, bool]:
    """(attname, default, whether the default is a fresh {} or [] per row, whether JSON)."""
    default = now if getattr(field, "auto_now", False) else field.get_default()
    return (
        field.attname,
        default,
        isinstance(default, dict | list),
        isinstance(field, models.JSONField),
    )


def _json(value: Any) -> Any:
    return None if value is None else Jsonb(value)


def next_ids(table: str, count: int) -> list[int]:
    """`count` ids from `table`'s id sequence, so rows can be linked before they are inserted."""
    if count <= 0:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, count],
        )
        return [row[0] for row in cursor.fetchall()]
