"""Finding likely duplicate contacts and companies: a few set-based queries a night.

Under row-level security PostgreSQL will not use a non-leakproof operator (LIKE, %,
similarity) as an index condition, so nothing here searches by similarity across an
organisation. Records are first grouped by equality (the same address, number or
domain; the same company and initial; the same first or last letters of a company's
name), with one aggregate per query; trigram similarity is computed only between the
records of one group.
"""

from typing import Any

from django.db import connection
from django.utils import timezone

from contacts.models import Contact
from crm.models import Organization

# A value shared by more records than this is a shared mailbox, a switchboard or a
# hosting domain, not one person or company entered twice: its records are not paired.
SHARED_VALUE_LIMIT = 10
# Names are compared within a block (people at one company with a name's same first
# letter; companies whose names begin or end alike). A larger block is skipped: comparing
# every pair in it would cost more than it finds, as a common name is no sign of a double.
GROUP_LIMIT = 300
NAME_SIMILARITY = 0.6
SCORES = {"email": 1.0, "phone": 0.9, "domain": 0.9}
CONTACT_REASONS = {
    "email": "Same email address",
    "phone": "Same phone number",
    "name": "Similar name at the same company",
}
COMPANY_REASONS = {"domain": "Same web domain", "company_name": "Similar company name"}

_CANDIDATES = """
DROP TABLE IF EXISTS pg_temp.duplicate_candidates;
CREATE TEMP TABLE duplicate_candidates (
    a bigint, b bigint, reason text, score real, PRIMARY KEY (a, b)
) ON COMMIT DROP;
"""

# Records that may pair: alive, never merged, not erased.
_LIVE_CONTACTS = (
    "SELECT * FROM contacts_contact WHERE org_id = %(org)s AND deleted_at IS NULL "
    "AND erased_at IS NULL"
)
_LIVE_COMPANIES = "SELECT * FROM contacts_company WHERE org_id = %(org)s AND deleted_at IS NULL"

# Pairs of records sharing a key, from (id, k) rows. Each group becomes an array, and
# pairs come from the arrays' subscripts: no join between large sets, whose plan would
# depend on statistics that a bulk import has just made stale.
_SAME_KEY = """
INSERT INTO duplicate_candidates (a, b, reason, score)
WITH keyed AS ({keys}),
grouped AS (
    SELECT array_agg(DISTINCT id ORDER BY id) AS ids FROM keyed WHERE k <> '' GROUP BY k
    HAVING count(DISTINCT id) BETWEEN 2 AND %(shared)s
)
SELECT ids[i], ids[j], %(reason)s, %(score)s
FROM grouped, generate_subscripts(ids, 1) AS i, generate_subscripts(ids, 1) AS j
WHERE i < j
ON CONFLICT DO NOTHING
"""

# The digits of a text: what is left after removing everything else (faster than a regex).
_DIGITS = "translate({text}, translate({text}, '0123456789', ''), '')"
_CONTACT_EMAILS = f"""
SELECT id, lower(btrim(e)) AS k FROM ({_LIVE_CONTACTS}) AS c,
    unnest(array_prepend(c.email::text, c.other_emails::text[])) AS e
"""  # noqa: S608  # nosec B608  # fixed SQL: built from the constants above only
# Digits only: "+44 20 7946 0958" and "+442079460958" are one number.
_CONTACT_PHONES = f"""
SELECT id, CASE WHEN length(d) >= 7 THEN d ELSE '' END AS k FROM (
    SELECT id, {_DIGITS.format(text="p")} AS d FROM ({_LIVE_CONTACTS}) AS c,
        unnest(array_prepend(c.phone::text, c.other_phones::text[])) AS p
) AS numbers
"""  # noqa: S608  # nosec B608  # fixed SQL: built from the constants above only
_COMPANY_DOMAINS = f"""
SELECT id, regexp_replace(lower(btrim(domain)), '^www\\.', '') AS k
FROM ({_LIVE_COMPANIES}) AS c
"""  # noqa: S608  # nosec B608  # fixed SQL: built from the constants above only

# Names compared within blocks, as arrays (see _SAME_KEY): each record comes in twice,
# under two keys (`grp`, `k`), so that a typo in one half of a name still leaves the
# other half to share a block. `name` is what is compared, `digits` the numbers in it
# ("Studio 54" is not "Studio 55").
_SIMILAR = """
INSERT INTO duplicate_candidates (a, b, reason, score)
WITH keyed AS ({names}),
grouped AS (
    SELECT array_agg(id) AS ids, array_agg(name) AS names, array_agg(digits) AS digits
    FROM keyed WHERE name <> '' GROUP BY grp, k HAVING count(*) BETWEEN 2 AND %(limit)s
)
SELECT least(ids[i], ids[j]), greatest(ids[i], ids[j]), %(reason)s,
    similarity(names[i], names[j])
FROM grouped, generate_subscripts(ids, 1) AS i, generate_subscripts(ids, 1) AS j
WHERE i < j AND digits[i] = digits[j] AND similarity(names[i], names[j]) >= %(threshold)s
ON CONFLICT DO NOTHING
"""
# People at the same company, by the first letter of the first name and of the last.
_CONTACT_NAMES = f"""
SELECT id, company_id AS grp, k, name, digits FROM (
    SELECT id, company_id, lower(btrim(first_name || ' ' || last_name)) AS name,
        lower(left(btrim(first_name), 1)) AS first, lower(left(btrim(last_name), 1)) AS last,
        {_DIGITS.format(text="first_name || last_name")} AS digits
    FROM ({_LIVE_CONTACTS}) AS c WHERE company_id IS NOT NULL
) AS named, LATERAL (VALUES ('f' || first), ('l' || last)) AS keys(k)
"""  # noqa: S608  # nosec B608  # fixed SQL: built from the constants above only
_LEGAL_FORMS = (
    "the|inc|incorporated|ltd|limited|llc|llp|plc|co|corp|corporation|company|gmbh|ag|sa|sas"
    "|sarl|srl|spa|bv|nv|oy|ab|pty"
)
# A company's name without punctuation, "the" and legal forms: "The Northwind Co., Ltd."
# is "northwind". Blocked by the numbers in it, and by its first or its last four letters.
_COMPANY_NAMES = f"""
SELECT id, digits AS grp, k, name, digits FROM (
    SELECT id, name, replace(name, ' ', '') AS letters, digits FROM (
        SELECT id, btrim(regexp_replace(regexp_replace(regexp_replace(lower(c.name),
            '[^[:alnum:]]+', ' ', 'g'),
            '\\m({_LEGAL_FORMS})\\M', '', 'g'),
            ' +', ' ', 'g')) AS name,
            {_DIGITS.format(text="c.name")} AS digits
        FROM ({_LIVE_COMPANIES}) AS c
    ) AS normalised
) AS named, LATERAL (VALUES ('^' || left(letters, 4)), ('$' || right(letters, 4))) AS keys(k)
"""  # noqa: S608  # nosec B608  # fixed SQL: built from the constants above only

_STORE = """
INSERT INTO crm_duplicatepair (org_id, record_kind, first_id, second_id, reason, score, found_at)
SELECT %(org)s, %(kind)s, a, b, reason, score, %(now)s FROM duplicate_candidates
ON CONFLICT DO NOTHING
"""
# A pair no longer found goes, unless someone said "not duplicates": that stays said
# until a record is deleted for good (the purge forgets its pairs) or erased. A merge does
# not end it: undoing the merge brings back both records, and the answer with them.
_FORGET = """
DELETE FROM crm_duplicatepair AS p
WHERE p.org_id = %(org)s AND p.record_kind = %(kind)s AND (
    (p.dismissed_at IS NULL AND NOT EXISTS (
        SELECT 1 FROM duplicate_candidates AS c WHERE c.a = p.first_id AND c.b = p.second_id))
    {erased}
)
"""
_ERASED = """OR EXISTS (
        SELECT 1 FROM contacts_contact AS r WHERE r.id IN (p.first_id, p.second_id)
        AND r.erased_at IS NOT NULL)"""


def _find(org: Organization, kind: str, same: list[tuple[str, str]],
          similar: list[tuple[str, str]], erased: str = "") -> int:  # fmt: skip
    params: dict[str, Any] = {"org": org.pk, "kind": kind, "shared": SHARED_VALUE_LIMIT,
                              "limit": GROUP_LIMIT, "threshold": NAME_SIMILARITY,
                              "now": timezone.now()}  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(_CANDIDATES)
        for reason, keys in same:
            cursor.execute(
                _SAME_KEY.format(keys=keys), {**params, "reason": reason, "score": SCORES[reason]}
            )
        for reason, names in similar:
            cursor.execute(_SIMILAR.format(names=names), {**params, "reason": reason})
        cursor.execute(_FORGET.format(erased=erased), params)
        cursor.execute(_STORE, params)
        return int(cursor.rowcount)


def contact_duplicates_find(*, org: Organization) -> int:
    """List the organisation's likely duplicate contacts as pairs: by the same email or
    phone number, or a similar name at the same company; how many pairs are new."""
    same = [("email", _CONTACT_EMAILS), ("phone", _CONTACT_PHONES)]
    return _find(org, "contact", same, [("name", _CONTACT_NAMES)], erased=_ERASED)


def company_duplicates_find(*, org: Organization) -> int:
    """List the organisation's likely duplicate companies: the same domain, or a similar
    name; how many pairs are new."""
    return _find(org, "company", [("domain", _COMPANY_DOMAINS)],
                 [("company_name", _COMPANY_NAMES)])  # fmt: skip


def contact_line(contact: Contact) -> str:
    """What the list of duplicates shows under a contact's name."""
    line = contact.email or contact.phone or "—"
    return f"{line} · {contact.company_name}" if contact.company_name else line


def company_line(company: Any) -> str:
    return company.domain or "—"
