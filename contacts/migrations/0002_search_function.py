"""Search that can use the GIN indexes under row-level security.

PostgreSQL uses a condition as an index condition ahead of a row-level security policy only
when its operator is leakproof; LIKE, @@ and %> are not, so under the policy every search
would read the whole organisation. This function finds the matching ids instead. It applies
the very rule of the policy itself (org_id = app.org_id: no setting, no rows), returns ids
only, and is owned by the NOLOGIN maintenance role, which bypasses row-level security so its
query can use the indexes. Callers fetch the rows through the policy as usual.

Where there is no maintenance role, the function stays with the owner: search is then as
correct, only slower.
"""

from django.db import migrations

CREATE = r"""
CREATE FUNCTION crm_search_ids(
    target text, term text, prefixes text, digits text, fuzzy boolean, threshold real,
    max_rows integer
) RETURNS SETOF bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
    org bigint := nullif(current_setting('app.org_id', true), '')::bigint;
    pattern text := '%' || replace(replace(replace(term, '\', '\\'), '%', '\%'), '_', '\_') || '%';
BEGIN
    IF org IS NULL THEN
        RETURN;  -- no organisation active: nothing, as the policy would answer
    END IF;
    IF target NOT IN ('contacts_contact', 'contacts_company') THEN
        RAISE EXCEPTION 'crm_search_ids does not search %', target;
    END IF;
    IF fuzzy THEN
        PERFORM set_config('pg_trgm.word_similarity_threshold', threshold::text, true);
        RETURN QUERY EXECUTE format(
            'SELECT id FROM %I WHERE org_id = $1 AND deleted_at IS NULL AND search_text %%> $2 LIMIT $3',
            target) USING org, term, max_rows;
    ELSIF target = 'contacts_contact' THEN
        RETURN QUERY EXECUTE
            'SELECT id FROM contacts_contact WHERE org_id = $1 AND deleted_at IS NULL AND ('
            || 'search_text LIKE $2'
            || CASE WHEN prefixes <> '' THEN ' OR search_vector @@ to_tsquery(''simple'', $3)' ELSE '' END
            || CASE WHEN digits <> '' THEN ' OR search_text LIKE $4' ELSE '' END
            || ') LIMIT $5'
            USING org, pattern, prefixes, '%' || digits || '%', max_rows;
    ELSE
        RETURN QUERY EXECUTE
            'SELECT id FROM contacts_company WHERE org_id = $1 AND deleted_at IS NULL '
            || 'AND search_text LIKE $2 LIMIT $3'
            USING org, pattern, max_rows;
    END IF;
END
$$;
REVOKE ALL ON FUNCTION crm_search_ids(text, text, text, text, boolean, real, integer) FROM PUBLIC;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'crm_maintenance' AND rolbypassrls)
       AND pg_has_role(current_user, 'crm_maintenance', 'MEMBER') THEN
        GRANT USAGE, CREATE ON SCHEMA public TO crm_maintenance;
        GRANT SELECT ON contacts_contact, contacts_company TO crm_maintenance;
        ALTER FUNCTION crm_search_ids(text, text, text, text, boolean, real, integer)
            OWNER TO crm_maintenance;
    END IF;
END
$$;
"""

DROP = "DROP FUNCTION IF EXISTS crm_search_ids(text, text, text, text, boolean, real, integer);"


class Migration(migrations.Migration):
    dependencies = [("contacts", "0001_contacts_and_companies")]

    operations = [migrations.RunSQL(CREATE, DROP)]
