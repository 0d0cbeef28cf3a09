"""Migration operations for record kinds: making a kind's table searchable.

    from crm.records.operations import MakeSearchable

    operations = [MakeSearchable("Deal")]

Search reads past row-level security through one reviewed SECURITY DEFINER function,
crm_search_ids (crm migration 0004), which searches only the tables listed in the
catalogue table crm_searchable, that migrations write and the app role can only be denied.
This operation lists a kind's table there, with what it offers the search, and lets the
maintenance role that owns the function read it. The table needs `org_id` and a
`search_text` column (lower-cased text, trigram-indexed, as Company has).
"""

from typing import Any

from django.db import migrations

GRANT = """
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'crm_maintenance' AND rolbypassrls)
       AND pg_has_role(current_user, 'crm_maintenance', 'MEMBER') THEN
        GRANT SELECT ON {table} TO crm_maintenance;
    END IF;
END
$$;
"""


class MakeSearchable(migrations.operations.base.Operation):
    """List a model's table in crm_searchable; going back, take it off the list."""

    reversible = True
    reduces_to_sql = True

    def __init__(
        self, model_name: str, *, full_text: bool = False, words_table: str = "",
        numbers: bool = False,
    ) -> None:  # fmt: skip
        # full_text: it has a `search_vector` (simple) that several words' prefixes search;
        # words_table: near misses come from that table of the organisation's words;
        # numbers: its text holds phone numbers, which a term's digits find.
        self.model_name = model_name
        self.full_text, self.words_table, self.numbers = full_text, words_table, numbers

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs: dict[str, Any] = {}
        if self.full_text:
            kwargs["full_text"] = True
        if self.words_table:
            kwargs["words_table"] = self.words_table
        if self.numbers:
            kwargs["numbers"] = True
        return self.__class__.__name__, [self.model_name], kwargs

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass  # the catalogue is not part of any model's state

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any,
                          to_state: Any) -> None:  # fmt: skip
        model = to_state.apps.get_model(app_label, self.model_name)
        names = {field.column for field in model._meta.concrete_fields}
        missing = {"org_id", "search_text"} - names
        if self.full_text:
            missing |= {"search_vector"} - names
        if missing:
            raise ValueError(f"{model._meta.db_table} lacks {', '.join(sorted(missing))}.")
        table = model._meta.db_table
        schema_editor.execute(
            "INSERT INTO crm_searchable (table_name, soft_deleted, full_text, words_table, "
            "numbers) VALUES (%s, %s, %s, %s, %s) ON CONFLICT (table_name) DO UPDATE SET "
            "soft_deleted = excluded.soft_deleted, full_text = excluded.full_text, "
            "words_table = excluded.words_table, numbers = excluded.numbers",
            [table, "deleted_at" in names, self.full_text, self.words_table or None,
             self.numbers],
        )  # fmt: skip
        schema_editor.execute(GRANT.format(table=schema_editor.quote_name(table)), params=None)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any,
                           to_state: Any) -> None:  # fmt: skip
        model = from_state.apps.get_model(app_label, self.model_name)
        schema_editor.execute(
            "DELETE FROM crm_searchable WHERE table_name = %s", [model._meta.db_table]
        )

    def describe(self) -> str:
        return f"Make {self.model_name} searchable"
