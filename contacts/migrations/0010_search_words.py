"""Near misses from a table of each organisation's words, as pg_trgm's documentation advises.

A misspelt search used to score trigram similarity against the contacts themselves until
1,000 were close enough: 150 ms among a million. Now each word of the search is matched
against the organisation's distinct words (a few thousand, trigram-indexed), and its near
misses drive the indexed full-text search, the closest word first.

contacts_searchword is a tenant table like any other (row-level security, the policy).
Statement-level triggers on contacts_contact keep it in step, set-based: the words of new
or changed contacts are added; the words a change or a deletion leaves in no contact of the
organisation are removed, so that an erased contact's name does not stay behind. Whether a
word is still used is answered by crm_search_words_unused, which, like crm_search_ids, reads
past row-level security to use the full-text index, applies app.org_id itself and answers
only about the words it is given.
"""

import importlib

import django.contrib.postgres.indexes
import django.db.models.deletion
from django.db import migrations, models

import crm.tenancy

FUNCTIONS = r"""
-- The words of a contact that near misses are found among: no addresses, no numbers, and
-- nothing shorter than a trigram.
-- (Plain SQL, neither STRICT nor with a SET clause, so that the planner inlines it.)
CREATE FUNCTION crm_search_vector_words(vector tsvector) RETURNS SETOF text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT w FROM unnest(tsvector_to_array(vector)) AS w
    WHERE length(w) >= 3 AND w !~ '[[:digit:]@]'
$$;

-- One lexeme as a query, quoted as tsquery input wants, or as a prefix.
CREATE FUNCTION crm_lexeme_query(lexeme text, prefix boolean) RETURNS tsquery
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT ('''' || replace(replace(lexeme, '\', '\\'), '''', '''''') || ''''
            || CASE WHEN prefix THEN ':*' ELSE '' END)::tsquery
$$;

CREATE FUNCTION crm_search_words_unused(words text[]) RETURNS SETOF text
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
    org bigint := nullif(current_setting('app.org_id', true), '')::bigint;
BEGIN
    IF org IS NULL THEN
        RETURN;  -- no organisation active: nothing, as the policy would answer
    END IF;
    RETURN QUERY
        SELECT w FROM unnest(words) AS w
        WHERE NOT EXISTS (
            SELECT 1 FROM contacts_contact c
            WHERE c.org_id = org AND c.search_vector @@ crm_lexeme_query(w, false));
END
$$;
REVOKE ALL ON FUNCTION crm_search_words_unused(text[]) FROM PUBLIC;

-- Runs as the writer, under the policy: it can add and remove only its organisation's words.
-- No unique key on (org_id, word), so that two transactions adding the same new word never
-- wait for each other; a word twice is harmless (near misses are grouped by word).
CREATE FUNCTION crm_search_words_keep() RETURNS trigger
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
    ELSIF TG_OP = 'UPDATE' THEN
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
    ELSE
        gone := ARRAY(
            SELECT DISTINCT w FROM old_rows o, crm_search_vector_words(o.search_vector) AS w
            WHERE o.org_id = org);
    END IF;
    IF cardinality(gone) > 0 THEN
        DELETE FROM contacts_searchword
        WHERE org_id = org AND word IN (SELECT crm_search_words_unused(gone));
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER contacts_contact_words_added AFTER INSERT ON contacts_contact
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION crm_search_words_keep();
CREATE TRIGGER contacts_contact_words_changed AFTER UPDATE ON contacts_contact
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION crm_search_words_keep();
CREATE TRIGGER contacts_contact_words_removed AFTER DELETE ON contacts_contact
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION crm_search_words_keep();

-- The same signature as before (contacts migration 0002). Near misses of contacts change,
-- from scoring every row to matching the organisation's words. A term with punctuation or
-- spaces ("mail42.exam") reaches the trigram index through its letters and digits alone
-- ('%mail42%exam%'), and the term itself is checked on the rows: the trigrams a separator
-- adds ("  e", " ex": a word starting with e) are in nearly every row, and reading their
-- long posting lists was most of the cost of such a search.
CREATE OR REPLACE FUNCTION crm_search_ids(
    target text, term text, prefixes text, digits text, fuzzy boolean, threshold real,
    max_rows integer
) RETURNS SETOF bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
    org bigint := nullif(current_setting('app.org_id', true), '')::bigint;
    pattern text := '%' || replace(replace(replace(term, '\', '\\'), '%', '\%'), '_', '\_') || '%';
    runs text := '%' || array_to_string(regexp_split_to_array(term, '[^[:alnum:]]+'), '%') || '%';
    matches text := CASE
        WHEN term ~ '[[:alnum:]]{3}' AND term ~ '[^[:alnum:]]'
        THEN '(search_text LIKE $6 AND strpos(search_text, $7) > 0)'
        ELSE 'search_text LIKE $2' END;
    lexeme text;
    alternatives tsquery[];
    drivers tsquery[];
    rest tsquery;
    any_of tsquery;
    alternative tsquery;
    found bigint[] := '{}';
BEGIN
    IF org IS NULL THEN
        RETURN;  -- no organisation active: nothing, as the policy would answer
    END IF;
    IF target NOT IN ('contacts_contact', 'contacts_company') THEN
        RAISE EXCEPTION 'crm_search_ids does not search %', target;
    END IF;
    IF fuzzy AND target = 'contacts_contact' THEN
        PERFORM set_config('pg_trgm.word_similarity_threshold', threshold::text, true);
        -- Each word of the term, in the order typed, becomes its near misses among the
        -- organisation's words, closest first (or itself as a prefix, when it has none).
        FOR lexeme IN
            SELECT u.lexeme FROM unnest(to_tsvector('simple', term)) AS u
            ORDER BY u.positions[1]
        LOOP
            -- Dynamic, so that each lexeme is planned with its value: the trigram index.
            EXECUTE
                'SELECT coalesce(array_agg(crm_lexeme_query(word, false) ORDER BY rank DESC, word), '
                || '''{}'') FROM (SELECT word, max(similarity(word, $2)) AS rank '
                || 'FROM contacts_searchword WHERE org_id = $1 AND word %> $2 '
                || 'GROUP BY word ORDER BY rank DESC, word LIMIT 10) AS near'
                INTO alternatives USING org, lexeme;
            IF cardinality(alternatives) = 0 THEN
                alternatives := ARRAY[crm_lexeme_query(lexeme, true)];
            END IF;
            IF drivers IS NULL THEN
                drivers := alternatives;
            ELSE
                any_of := NULL;
                FOREACH alternative IN ARRAY alternatives LOOP
                    any_of := coalesce(any_of || alternative, alternative);
                END LOOP;
                rest := coalesce(rest && any_of, any_of);
            END IF;
        END LOOP;
        -- The first word's near misses one by one, closest first, each with all the other
        -- words: the closest spelling fills the page before a looser one does.
        FOREACH alternative IN ARRAY coalesce(drivers, '{}') LOOP
            EXECUTE
                'SELECT array_cat($3, ARRAY(SELECT id FROM contacts_contact '
                || 'WHERE org_id = $1 AND deleted_at IS NULL AND search_vector @@ $2 '
                || 'AND NOT id = ANY ($3) LIMIT $4))'
                INTO found
                USING org, coalesce(alternative && rest, alternative), found,
                      max_rows - cardinality(found);
            EXIT WHEN cardinality(found) >= max_rows;
        END LOOP;
        RETURN QUERY SELECT unnest(found);
    ELSIF fuzzy THEN
        PERFORM set_config('pg_trgm.word_similarity_threshold', threshold::text, true);
        RETURN QUERY EXECUTE
            'SELECT id FROM contacts_company WHERE org_id = $1 AND deleted_at IS NULL '
            || 'AND search_text %> $2 LIMIT $3'
            USING org, term, max_rows;
    ELSIF target = 'contacts_contact' THEN
        RETURN QUERY EXECUTE
            'SELECT id FROM contacts_contact WHERE org_id = $1 AND deleted_at IS NULL AND ('
            || matches
            || CASE WHEN prefixes <> '' THEN ' OR search_vector @@ to_tsquery(''simple'', $3)' ELSE '' END
            || CASE WHEN digits <> '' THEN ' OR search_text LIKE $4' ELSE '' END
            || ') LIMIT $5'
            USING org, pattern, prefixes, '%' || digits || '%', max_rows, runs, term;
    ELSE
        RETURN QUERY EXECUTE
            'SELECT id FROM contacts_company WHERE org_id = $1 AND deleted_at IS NULL AND '
            || matches || ' LIMIT $5'
            USING org, pattern, NULL::text, NULL::text, max_rows, runs, term;
    END IF;
END
$$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'crm_maintenance' AND rolbypassrls)
       AND pg_has_role(current_user, 'crm_maintenance', 'MEMBER') THEN
        GRANT SELECT ON contacts_searchword TO crm_maintenance;
        ALTER FUNCTION crm_search_words_unused(text[]) OWNER TO crm_maintenance;
    END IF;
END
$$;

-- The words of the contacts there already, one organisation at a time, through the policy.
DO $$
DECLARE
    org bigint;
BEGIN
    FOR org IN SELECT id FROM crm_organization LOOP
        PERFORM set_config('app.org_id', org::text, true);
        INSERT INTO contacts_searchword (org_id, word)
        SELECT DISTINCT org, w FROM contacts_contact c, crm_search_vector_words(c.search_vector) AS w
        WHERE c.org_id = org;
    END LOOP;
    PERFORM set_config('app.org_id', '', true);
END
$$;
"""

DROP_FUNCTIONS = """
DROP TRIGGER IF EXISTS contacts_contact_words_added ON contacts_contact;
DROP TRIGGER IF EXISTS contacts_contact_words_changed ON contacts_contact;
DROP TRIGGER IF EXISTS contacts_contact_words_removed ON contacts_contact;
DROP FUNCTION IF EXISTS crm_search_words_keep();
DROP FUNCTION IF EXISTS crm_search_words_unused(text[]);
DROP FUNCTION IF EXISTS crm_lexeme_query(text, boolean);
DROP FUNCTION IF EXISTS crm_search_vector_words(tsvector);
"""


def _previous_search() -> str:
    """crm_search_ids as contacts migration 0002 made it, to put back when going back."""
    previous = importlib.import_module("contacts.migrations.0002_search_function")
    return str(previous.CREATE).replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0009_email_index"),
        ("crm", "0002_organizations_and_audit"),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchWord",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("word", models.TextField()),
                (
                    "org",
                    models.ForeignKey(
                        editable=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="crm.organization",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["org", "word"], name="searchword_org_word"),
                    django.contrib.postgres.indexes.GinIndex(
                        django.contrib.postgres.indexes.OpClass("word", name="gin_trgm_ops"),
                        name="searchword_trgm",
                    ),
                ],
                "constraints": [
                    crm.tenancy.TenantKey(name="contacts_searchword_org_id_key"),
                    crm.tenancy.RowLevelSecurity(name="contacts_searchword_tenant"),
                ],
            },
        ),
        migrations.RunSQL(FUNCTIONS, DROP_FUNCTIONS + _previous_search()),
    ]
