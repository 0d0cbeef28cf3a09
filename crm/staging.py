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

from django.db import connection
from django.db.models import Model
from django.utils import timezone
from psycopg.types.json import Jsonb

_names = itertools.count()


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(connection.ops.quote_name(name) for name in names)


def stage(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """COPY `rows` into a new temporary table with `table`'s types for `columns`; its name.

    Dicts are written as JSON; lists as arrays, as psycopg adapts them.
    """
    name = f"stage_{table}_{next(_names)}"
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        # The names are quoted identifiers; DDL takes no parameters.
        cursor.execute(
            f"CREATE TEMP TABLE {q(name)} ON COMMIT DROP AS "  # noqa: S608
            f"SELECT {_quoted(columns)} FROM {q(table)} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY {q(name)} ({_quoted(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([Jsonb(v) if isinstance(v, dict) else v for v in row])
    return name


def insert_staged(table: str, staged: str, columns: Sequence[str]) -> int:
    """INSERT the staged rows into `table`; the number inserted."""
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {q(table)} ({_quoted(columns)}) "  # noqa: S608
            f"SELECT {_quoted(columns)} FROM {q(staged)}"
        )
        return int(cursor.rowcount)


def update_staged(table: str, staged: str, columns: Sequence[str], key: str = "id") -> int:
    """UPDATE `table`'s `columns` from the staged rows with the same `key`; the number updated."""
    q = connection.ops.quote_name
    assignments = ", ".join(f"{q(column)} = s.{q(column)}" for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {q(table)} AS t SET {assignments} FROM {q(staged)} AS s "  # noqa: S608
            f"WHERE t.{q(key)} = s.{q(key)}"
        )
        return int(cursor.rowcount)


def insert_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Stage and insert in one call."""
    return insert_staged(table, stage(table, columns, rows), columns)


def update_rows(
    table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], key: str = "id"
) -> int:
    """Stage rows of (key, *columns) and update `table` from them in one call."""
    return update_staged(table, stage(table, [key, *columns], rows), columns, key)


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


def insert_records(
    model: type[Model], records: Iterable[dict[str, Any]], *, with_ids: bool = False
) -> int:
    """Insert rows of `model` given as {attname: value}; a field left out takes its default
    (an `auto_now` field, the time now), as Model.save() would give it. With `with_ids`,
    every record carries its "id" (from next_ids); otherwise the table numbers them."""
    fields = [f for f in model._meta.concrete_fields if not f.generated and f.attname != "id"]
    now = timezone.now()
    defaults = {
        f.attname: now if getattr(f, "auto_now", False) else f.get_default() for f in fields
    }
    columns = (["id"] if with_ids else []) + [f.column for f in fields]

    def rows() -> Iterator[list[Any]]:
        for record in records:
            row = [record["id"]] if with_ids else []
            for f in fields:
                row.append(
                    record[f.attname] if f.attname in record else _fresh(defaults[f.attname])
                )
            yield row

    return insert_rows(model._meta.db_table, columns, rows())


def _fresh(default: Any) -> Any:
    # A mutable default ({} or []) must not be shared between rows.
    return type(default)() if isinstance(default, dict | list) else default
