"""Forget a deleted contact's words once per purge, not once per statement that deletes.

Checking whether a word is still used reads its full-text posting list, which for a common
surname is long. Django deletes a hundred rows per statement, so a statement-level trigger
on DELETE made the nightly purge of a thousand contacts take half a minute (and of a
hundred thousand, longer than a task may run). Contacts are deleted for good only by the
purge of the Trash, which now forgets their words itself, in one check
(contacts.services.trash_purge); renames and erasure still go through the UPDATE trigger.
"""

from django.db import migrations

KEEP = r"""
CREATE OR REPLACE FUNCTION crm_search_words_keep() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
    org bigint := nullif(current_setting('app.org_id', true), '')::bigint;
    gone text[];
BEGIN
    IF org IS NULL THEN
        RETURN NULL;  -- no organisation active: the policy let no contact change
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO contacts_searchword (org_id, word)
        SELECT org, added.w
        FROM (SELECT DISTINCT w FROM new_rows n, crm_search_vector_words(n.search_vector) AS w
              WHERE n.org_id = org) AS added
        WHERE NOT EXISTS (
            SELECT 1 FROM contacts_searchword s WHERE s.org_id = org AND s.word = added.w);
    ELSE
        INSERT INTO contacts_searchword (org_id, word)
        SELECT org, added.w
        FROM (SELECT DISTINCT w
              FROM new_rows n JOIN old_rows o ON o.id = n.id,
                   crm_search_vector_words(n.search_vector) AS w
              WHERE n.org_id = org AND n.search_vector IS DISTINCT FROM o.search_vector) AS added
        WHERE NOT EXISTS (
            SELECT 1 FROM contacts_searchword s WHERE s.org_id = org AND s.word = added.w);
        gone := ARRAY(
            SELECT w
            FROM old_rows o JOIN new_rows n ON n.id = o.id,
                 crm_search_vector_words(o.search_vector) AS w
            WHERE o.org_id = org AND n.search_vector IS DISTINCT FROM o.search_vector
            EXCEPT
            SELECT w FROM new_rows n, crm_search_vector_words(n.search_vector) AS w
            WHERE n.org_id = org);
        IF cardinality(gone) > 0 THEN
            DELETE FROM contacts_searchword
            WHERE org_id = org AND word IN (SELECT crm_search_words_unused(gone));
        END IF;
    END IF;
    RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS contacts_contact_words_removed ON contacts_contact;
"""

BACK = """
CREATE TRIGGER contacts_contact_words_removed AFTER DELETE ON contacts_contact
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION crm_search_words_keep();
"""


def _previous_keep() -> str:
    """crm_search_words_keep as migration 0010 made it (with its DELETE branch)."""
    import importlib

    previous = importlib.import_module("contacts.migrations.0010_search_words")
    source = str(previous.FUNCTIONS)
    start = source.index("CREATE FUNCTION crm_search_words_keep()")
    end = source.index("CREATE TRIGGER", start)
    return source[start:end].replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


class Migration(migrations.Migration):
    dependencies = [("contacts", "0010_search_words")]

    operations = [migrations.RunSQL(KEEP, _previous_keep() + BACK)]
