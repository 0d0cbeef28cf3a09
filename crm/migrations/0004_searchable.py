"""Search any record kind's table through the one reviewed function, by a declared list.

crm_search_ids reads past row-level security (PostgreSQL uses an index under a policy only
for leakproof operators, and LIKE, @@ and %> are not). It named the two tables it searched;
a new kind would have needed its own plpgsql. Now it searches the tables listed in
crm_searchable, which migrations write (crm.records.operations.MakeSearchable) and the app
role cannot: what each offers (soft deletion, full-text words, a table of words for near
misses, phone numbers) is read from the list, and every name reaches SQL through format()'s
%I. The app role may read the list, not change it. It still applies app.org_id itself, returns nothing without it, returns ids only, and
runs with pg_temp last in its search_path.
"""

from django.db import migrations

CATALOGUE = """
CREATE TABLE crm_searchable (
    table_name text PRIMARY KEY,
    soft_deleted boolean NOT NULL,
    full_text boolean NOT NULL,
    words_table text,
    numbers boolean NOT NULL
);
REVOKE ALL ON crm_searchable FROM PUBLIC;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'crm_maintenance' AND rolbypassrls)
       AND pg_has_role(current_user, 'crm_maintenance', 'MEMBER') THEN
        GRANT SELECT ON crm_searchable TO crm_maintenance;
    END IF;
END
$$;
"""

FUNCTION = r"""
CREATE OR REPLACE FUNCTION crm_search_ids(
    target text, term text, prefixes text, digits text, fuzzy boolean, threshold real,
    max_rows integer
) RETURNS SETOF bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    org bigint := nullif(current_setting('app.org_id', true), '')::bigint;
    searchable crm_searchable;
    alive text;
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
    hits bigint[] := '{}';
BEGIN
    IF org IS NULL THEN
        RETURN;  -- no organisation active: nothing, as the policy would answer
    END IF;
    SELECT * INTO searchable FROM crm_searchable WHERE table_name = target;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'crm_search_ids does not search %', target;
    END IF;
    alive := CASE WHEN searchable.soft_deleted THEN ' AND deleted_at IS NULL' ELSE '' END;
    IF fuzzy AND searchable.words_table IS NOT NULL THEN
        PERFORM set_config('pg_trgm.word_similarity_threshold', threshold::text, true);
        -- Each word of the term, in the order typed, becomes its near misses among the
        -- organisation's words, closest first (or itself as a prefix, when it has none).
        FOR lexeme IN
            SELECT u.lexeme FROM unnest(to_tsvector('simple', term)) AS u
            ORDER BY u.positions[1]
        LOOP
            -- Dynamic, so that each lexeme is planned with its value: the trigram index.
            EXECUTE format(
                'SELECT coalesce(array_agg(crm_lexeme_query(word, false) ORDER BY rank DESC, word), '
                '''{}'') FROM (SELECT word, max(similarity(word, $2)) AS rank '
                'FROM %I WHERE org_id = $1 AND word %%> $2 '
                'GROUP BY word ORDER BY rank DESC, word LIMIT 10) AS near', searchable.words_table)
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
            EXECUTE format(
                'SELECT array_cat($3, ARRAY(SELECT id FROM %I '
                'WHERE org_id = $1%s AND search_vector @@ $2 '
                'AND NOT id = ANY ($3) LIMIT $4))', target, alive)
                INTO hits
                USING org, coalesce(alternative && rest, alternative), hits,
                      max_rows - cardinality(hits);
            EXIT WHEN cardinality(hits) >= max_rows;
        END LOOP;
        RETURN QUERY SELECT unnest(hits);
    ELSIF fuzzy THEN
        PERFORM set_config('pg_trgm.word_similarity_threshold', threshold::text, true);
        RETURN QUERY EXECUTE format(
            'SELECT id FROM %I WHERE org_id = $1%s AND search_text %%> $2 LIMIT $3', target, alive)
            USING org, term, max_rows;
    ELSE
        RETURN QUERY EXECUTE format(
            'SELECT id FROM %I WHERE org_id = $1%s AND (%s%s%s) LIMIT $5', target, alive, matches,
            CASE WHEN prefixes <> '' AND searchable.full_text
                 THEN ' OR search_vector @@ to_tsquery(''simple'', $3)' ELSE '' END,
            CASE WHEN digits <> '' AND searchable.numbers
                 THEN ' OR search_text LIKE $4' ELSE '' END)
            USING org, pattern, prefixes, '%' || digits || '%', max_rows, runs, term;
    END IF;
END
$$;
REVOKE ALL ON FUNCTION crm_search_ids(text, text, text, text, boolean, real, integer) FROM PUBLIC;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0003_record_models"),
        # The function it replaces, as contacts migrations 0002, 0010 and 0012 left it.
        ("contacts", "0013_record_models"),
    ]

    operations = [migrations.RunSQL(CATALOGUE + FUNCTION)]
