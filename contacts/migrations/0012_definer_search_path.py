"""Search temporary tables last in the functions that read past row-level security.

Without pg_temp in its search_path, PostgreSQL looks in the session's temporary schema
first, and the app role may create temporary tables (crm.staging does): a table named
like contacts_contact there would stand in for the real one inside these functions. It
could only feed them the caller's own rows, but the functions should read the tables
they were written for, and nothing else.
"""

from django.db import migrations

FUNCTIONS = (
    "crm_search_ids(text, text, text, text, boolean, real, integer)",
    "crm_search_words_unused(text[])",
    "crm_search_words_keep()",
)
FORWARD = "".join(
    f"ALTER FUNCTION {name} SET search_path = pg_catalog, public, pg_temp;\n" for name in FUNCTIONS
)
BACK = "".join(
    f"ALTER FUNCTION {name} SET search_path = pg_catalog, public;\n" for name in FUNCTIONS
)


class Migration(migrations.Migration):
    dependencies = [("contacts", "0011_search_words_on_purge")]

    operations = [migrations.RunSQL(FORWARD, BACK)]
