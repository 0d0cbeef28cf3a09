"""How a kind's records are imported: the part of an import that differs between kinds.

The platform reads the file, matches its rows to records, plans what each row does, writes
the plan set-based, keeps what it changed for undo, and shows the report. A kind declares
an Importer: the fields a column can fill, the columns a row can be matched by, and, by
overriding the hooks below, whatever else its rows carry (a contact's company by name, its
consent). The defaults import plain fields, the owner, custom values and tags.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError

from crm.records.imports.fields import Target

if TYPE_CHECKING:
    from crm.records.imports.plan import Plan, RowPlan
    from crm.records.imports.services import Writer
    from crm.records.imports.undo import Restorer


@dataclass(frozen=True)
class Match:
    """A way to find the record a row updates: by the value of one field."""

    # The field (and the target that must be mapped); "" matches nothing: every row adds a
    # record (deals, which no column tells apart).
    field: str
    noun: str  # what the report calls it: "email"
    label: str  # what the mapping page offers: "Email address"
    lowered: bool = False  # compared in any case (names), rather than as stored


@dataclass(frozen=True)
class Importer:
    """A kind's import: its targets, how rows match records, and what a row must have."""

    targets: Sequence[Target]
    match: dict[str, Match]
    # Fields written as the file gives them (the owner included), besides custom values,
    # tags and what the hooks add.
    plain: tuple[str, ...]
    # List fields that only grow, each with the field its first value may already be in:
    # ("other_emails", "email").
    lists: tuple[tuple[str, str], ...] = ()
    # The targets of which a mapping needs at least one, and what to say when it has none;
    # `when_updating`: needed in update mode too (a name or an email, for contacts).
    needs: tuple[str, ...] = ()
    needs_message: str = ""
    needs_when_updating: bool = True
    # What a new record needs at least one of, what to say, and under which column.
    new_needs: tuple[str, ...] = ()
    new_needs_message: str = ""
    new_needs_column: str = ""
    # The fields naming a record in its History ("first_name", "last_name", "email").
    repr_fields: tuple[str, ...] = ("name",)
    # What matching also reads of a record, for the hooks to compare with (its consent).
    reads: tuple[str, ...] = ()
    # The totals of its own that totals() adds, with what the report calls them: records
    # of other kinds the import creates ({"companies_created": "New companies"}).
    other_totals: dict[str, str] = field(default_factory=dict)

    # --- Planning --------------------------------------------------------------------------

    def default_match(self, mapping: list[str]) -> str:
        """The match suggested for a file: the first whose field a column fills."""
        first = next(iter(self.match))
        return next((key for key, m in self.match.items() if m.field in mapping), first)

    def check_mapping(self, chosen: set[str], mode: str) -> None:
        """Refuse a mapping this kind cannot import (ValidationError)."""
        if (
            self.needs
            and (self.needs_when_updating or mode != "update")
            and not (set(self.needs) & chosen)
        ):
            raise ValidationError(self.needs_message)

    def existing_fields(self) -> list[str]:
        """What matching reads of an existing record, to compare a row with it."""
        fields = [f"{name}_id" if name == "owner" else name for name in self.plain]
        fields += [name for name, _ in self.lists]
        return [*fields, *self.reads]

    def put(self, values: dict[str, Any], key: str, value: Any) -> bool:
        """Keep a cell's value for a target of the kind's own (True), or leave it (False)."""
        return False

    def prepare(
        self, row: RowPlan, values: dict[str, Any], existing: dict[str, Any] | None,
        header: Any,
    ) -> None:  # fmt: skip
        """Normalise a row's values before they are compared or written; `existing` is the
        matched record, None for a new one; refuse the row with row.refuse()."""

    def take_new(self, row: RowPlan, values: dict[str, Any]) -> None:
        """Move what a new record's row writes besides its fields into row.extra."""

    def take_changes(self, row: RowPlan, values: dict[str, Any], existing: dict[str, Any]) -> None:
        """Move what an update writes besides its fields into row.extra, and its before and
        after into row.changes."""

    def after_plan(self, plan: Plan) -> None:
        """Finish the plan once every row is planned (a contacts import finds companies)."""

    def totals(self, plan: Plan) -> dict[str, int]:
        """The report's totals of the kind's own (named in other_totals)."""
        return {}

    def totals_of_its_own(self, totals: dict[str, int]) -> list[tuple[str, int]]:
        """(label, number) for each of other_totals, from a job's totals."""
        return [(label, totals.get(key, 0)) for key, label in self.other_totals.items()]

    def describe(self, record: dict[str, Any]) -> str:
        """A record's name for its History, from its repr_fields."""
        return " ".join(str(record.get(name) or "") for name in self.repr_fields).strip() or (
            f"#{record.get('id')}"
        )

    # --- Writing ---------------------------------------------------------------------------

    def write_first(self, writer: Writer) -> None:
        """Write what the records will point at (a contacts import's new companies)."""

    def new_record(self, writer: Writer, row: RowPlan, record: dict[str, Any]) -> None:
        """Add to a new record's columns what row.extra holds."""

    def changed_values(self, writer: Writer, row: RowPlan, values: dict[str, Any]) -> None:
        """Add to an update's columns what row.extra holds."""

    def write_last(self, writer: Writer) -> None:
        """Write what hangs off the records (a contact's consent events)."""

    # --- Undoing ---------------------------------------------------------------------------

    def restore(self, restorer: Restorer, record: dict[str, Any], name: str, before: Any,
                after: Any, values: dict[str, Any], undone: dict[str, Any]) -> bool:  # fmt: skip
        """Undo one change of the kind's own (True), or leave it to the platform (False)."""
        return False

    def restored_values(self, values: dict[int, dict[str, Any]]) -> None:
        """Complete the restored columns of a chunk of records, by id (a contact's copy of
        its company's name)."""

    def undo_last(self, restorer: Restorer) -> None:
        """Undo what hangs off the records (consent events the import added)."""
