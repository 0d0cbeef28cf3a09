"""Likely duplicates: found by a nightly job in a few set-based queries, listed in pairs.

Under row-level security PostgreSQL will not use a non-leakproof operator (LIKE, %,
similarity) as an index condition, so nothing here searches by similarity across an
organisation. Records are first grouped by equality (the same address, number or
domain; the same company and initial; the same first or last letters of a company's
name), with one aggregate per query; trigram similarity is computed only between the
records of one group.
"""

from typing import Any, cast

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from contacts.models import Company, Contact, DuplicatePair, Merge, RecordKind
from crm.audit import audit_record
from crm.models import Membership, Organization, User
from crm.tenancy import cache_key

# A value shared by more records than this is a shared mailbox, a switchboard or a
# hosting domain, not one person or company entered twice: its records are not paired.
SHARED_VALUE_LIMIT = 10
# Names are compared within a block (people at one company with a name's same first
# letter; companies whose names begin or end alike). A larger block is skipped: comparing
# every pair in it would cost more than it finds, as a common name is no sign of a double.
GROUP_LIMIT = 300
NAME_SIMILARITY = 0.6
SCORES = {"email": 1.0, "phone": 0.9, "domain": 0.9}
# Seconds during which "Look for duplicates now" does not send the search again.
FIND_AGAIN_AFTER = 60

_CANDIDATES = """
DROP TABLE IF EXISTS pg_temp.duplicate_candidates;
CREATE TEMP TABLE duplicate_candidates (
    entity text, a bigint, b bigint, reason text, score real, PRIMARY KEY (entity, a, b)
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
INSERT INTO duplicate_candidates (entity, a, b, reason, score)
WITH keyed AS ({keys}),
grouped AS (
    SELECT array_agg(DISTINCT id ORDER BY id) AS ids FROM keyed WHERE k <> '' GROUP BY k
    HAVING count(DISTINCT id) BETWEEN 2 AND %(shared)s
)
SELECT %(entity)s, ids[i], ids[j], %(reason)s, %(score)s
FROM grouped, generate_subscripts(ids, 1) AS i, generate_subscripts(ids, 1) AS j
WHERE i < j
ON CONFLICT DO NOTHING
"""

# The digits of a text: what is left after removing everything else (faster than a regex).
_DIGITS = "translate({text}, translate({text}, '0123456789', ''), '')"
_CONTACT_EMAILS = f"""
SELECT id, lower(btrim(e)) AS k FROM ({_LIVE_CONTACTS}) AS c,
    unnest(array_prepend(c.email::text, c.other_emails::text[])) AS e
"""  # noqa: S608 - fixed SQL
# Digits only: "+44 20 7946 0958" and "+442079460958" are one number.
_CONTACT_PHONES = f"""
SELECT id, CASE WHEN length(d) >= 7 THEN d ELSE '' END AS k FROM (
    SELECT id, {_DIGITS.format(text="p")} AS d FROM ({_LIVE_CONTACTS}) AS c,
        unnest(array_prepend(c.phone::text, c.other_phones::text[])) AS p
) AS numbers
"""  # noqa: S608 - fixed SQL
_COMPANY_DOMAINS = f"""
SELECT id, regexp_replace(lower(btrim(domain)), '^www\\.', '') AS k
FROM ({_LIVE_COMPANIES}) AS c
"""  # noqa: S608 - fixed SQL

# Names compared within blocks, as arrays (see _SAME_KEY): each record comes in twice,
# under two keys (`grp`, `k`), so that a typo in one half of a name still leaves the
# other half to share a block. `name` is what is compared, `digits` the numbers in it
# ("Studio 54" is not "Studio 55").
_SIMILAR = """
INSERT INTO duplicate_candidates (entity, a, b, reason, score)
WITH keyed AS ({names}),
grouped AS (
    SELECT array_agg(id) AS ids, array_agg(name) AS names, array_agg(digits) AS digits
    FROM keyed WHERE name <> '' GROUP BY grp, k HAVING count(*) BETWEEN 2 AND %(limit)s
)
SELECT %(entity)s, least(ids[i], ids[j]), greatest(ids[i], ids[j]), %(reason)s,
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
"""  # noqa: S608 - fixed SQL
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
"""  # noqa: S608 - fixed SQL

_STORE = """
INSERT INTO contacts_duplicatepair
    (org_id, entity, {a}, {b}, reason, score, found_at)
SELECT %(org)s, entity, a, b, reason, score, %(now)s FROM duplicate_candidates
WHERE entity = %(entity)s
ON CONFLICT DO NOTHING
"""
# A pair no longer found goes, unless someone said "not duplicates": that stays said
# until a record is deleted for good (its pairs go with it) or erased. A merge does not
# end it: undoing the merge brings back both records, and the answer with them.
_FORGET = """
DELETE FROM contacts_duplicatepair AS p
WHERE p.org_id = %(org)s AND p.entity = %(entity)s AND (
    (p.dismissed_at IS NULL AND NOT EXISTS (
        SELECT 1 FROM duplicate_candidates AS c
        WHERE c.entity = p.entity AND c.a = p.{a} AND c.b = p.{b}))
    {erased}
)
"""
_ERASED = """OR EXISTS (
        SELECT 1 FROM contacts_contact AS r WHERE r.id IN (p.{a}, p.{b})
        AND r.erased_at IS NOT NULL)"""


@transaction.atomic
def duplicates_find(*, org: Organization) -> dict[str, int]:
    """List the likely duplicate contacts and companies of the organisation as pairs: new
    pairs added, pairs no longer found removed, dismissed ones left dismissed."""
    params: dict[str, Any] = {"org": org.pk, "shared": SHARED_VALUE_LIMIT, "limit": GROUP_LIMIT,
                              "threshold": NAME_SIMILARITY, "now": timezone.now()}  # fmt: skip
    contact, company = RecordKind.CONTACT.value, RecordKind.COMPANY.value
    with connection.cursor() as cursor:
        cursor.execute(_CANDIDATES)
        for entity, reason, keys in [
            (contact, "email", _CONTACT_EMAILS), (contact, "phone", _CONTACT_PHONES),
            (company, "domain", _COMPANY_DOMAINS),
        ]:  # fmt: skip
            cursor.execute(
                _SAME_KEY.format(keys=keys),
                {**params, "entity": entity, "reason": reason, "score": SCORES[reason]},
            )
        for entity, reason, names in [
            (contact, "name", _CONTACT_NAMES), (company, "company_name", _COMPANY_NAMES)
        ]:  # fmt: skip
            cursor.execute(
                _SIMILAR.format(names=names), {**params, "entity": entity, "reason": reason}
            )
        found: dict[str, int] = {}
        for entity, erased in [(contact, _ERASED), (company, "")]:
            a, b = f"{entity}_a_id", f"{entity}_b_id"
            cursor.execute(_FORGET.format(a=a, b=b, erased=erased.format(a=a, b=b)),
                           {**params, "entity": entity})  # fmt: skip
            cursor.execute(_STORE.format(a=a, b=b), {**params, "entity": entity})
            found[entity] = cursor.rowcount
    return found


@transaction.atomic
def duplicate_dismiss(*, org: Organization, pair: DuplicatePair, by: User | None) -> None:
    """Say that a pair is not one record: it is never listed again."""
    if pair.dismissed_at is None:
        pair.dismissed_at, pair.dismissed_by = timezone.now(), by
        pair.save(update_fields=["dismissed_at", "dismissed_by"])
        records = [getattr(pair, f"{pair.entity}_{side}_id") for side in ("a", "b")]
        audit_record(
            org=org, actor=by, action=f"{pair.entity}.duplicate_dismissed", target=pair,
            changes={"records": [None, records]},
        )  # fmt: skip


# --- Reads -------------------------------------------------------------------------------


def _open_pairs(entity: str, membership: Membership) -> Q:
    """The open pairs of one kind whose two records this member may see."""
    kind: type[Contact] | type[Company] = Contact if entity == RecordKind.CONTACT else Company
    visible = kind.objects.alive().visible_to(membership)
    if kind is Contact:
        visible = visible.filter(erased_at__isnull=True)
    a, b = f"{entity}_a", f"{entity}_b"
    return Q(
        Exists(visible.filter(pk=OuterRef(a))), Exists(visible.filter(pk=OuterRef(b))),
        entity=entity, dismissed_at__isnull=True,
    )  # fmt: skip


def duplicate_pairs(entity: str, membership: Membership) -> QuerySet[DuplicatePair]:
    """The open pairs whose two records this member may see, most alike first."""
    found = DuplicatePair.objects.filter(_open_pairs(entity, membership))
    # The lists show each record's name, address or domain, and a contact's company_name.
    related = (f"{entity}_a", f"{entity}_b")
    return cast(QuerySet[DuplicatePair], found.select_related(*related).order_by("-score", "id"))


def duplicate_pair(pair_id: int, membership: Membership) -> DuplicatePair | None:
    """An open pair of either kind whose two records this member may see, in one query."""
    either = _open_pairs(RecordKind.CONTACT, membership) | _open_pairs(
        RecordKind.COMPANY, membership
    )
    return cast(DuplicatePair | None, DuplicatePair.objects.filter(either, pk=pair_id).first())


def recent_merges(entity: str, membership: Membership, limit: int = 10) -> list[Merge]:
    """The latest merges into records this member may see, with those records."""
    kind: type[Contact] | type[Company] = Contact if entity == RecordKind.CONTACT else Company
    visible = kind.objects.visible_to(membership)
    merges = Merge.objects.filter(entity=entity).filter(
        Exists(visible.filter(pk=OuterRef("survivor_id")))
    )
    found = list(merges.select_related("by")[:limit])
    survivors = visible.in_bulk([merge.survivor_id for merge in found])
    for merge in found:
        merge.survivor = survivors.get(merge.survivor_id)  # type: ignore[attr-defined]
    return found


def duplicates_find_soon(*, org: Organization) -> bool:
    """Send the search for duplicates now (once the request commits), unless it was sent a
    moment ago: a second press would only repeat the same work. True if it was sent."""
    from contacts import tasks  # it calls duplicates_find

    if not cache.add(cache_key("duplicates_find"), True, timeout=FIND_AGAIN_AFTER):
        return False
    tasks.duplicates_find.delay_on_commit(org_id=org.pk)
    return True
