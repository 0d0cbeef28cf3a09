"""Every contact's scores, computed every night in set-based SQL.

**Engagement, 0 to 100.** Each interaction of the last 365 days earns the contact points by
its channel and direction (POINTS: a meeting 5, a call 4, an email or a web form the
customer sent 3, a chat, a text or a social message 2, an email we sent or a letter 1; an
internal note none), halved for every 30 days of its age: a meeting today is worth 5, one
a month ago 2.5, one two months ago 1.25. The score is five times the points, at most 100:
20 points or more is 100.

**RFM, 1 to 5 each,** from the contact's won deals (as their primary contact): recency
(how lately they last won), frequency (how many) and monetary value (how much, in the
organisation's currency), each the contact's fifth among the organisation's contacts with
a won deal, 5 the best. The RFM segment names the recency and frequency together
(RFM_SEGMENTS): champions have bought lately and often, "at risk" often but not lately.

Contacts declares the scores; interactions and sales give the rows they are made of
(register_engagement, register_value), so that contacts imports neither. A contact with no
interaction in the year and no won deal has no row (engagement 0, no RFM).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from crm.models import Organization

HALF_LIFE_DAYS = 30
YEAR_DAYS = 365
SCORE_PER_POINT = 5

# Checked in order: the first that holds names the contact's (recency, frequency).
RFM_SEGMENTS: list[tuple[str, str, str]] = [
    ("champions", "Champions", "r >= 4 AND f >= 4"),
    ("cant_lose", "Can't lose them", "r = 1 AND f >= 4"),
    ("at_risk", "At risk", "r <= 2 AND f >= 3"),
    ("loyal", "Loyal", "f >= 3"),
    ("new", "New customers", "r = 5 AND f = 1"),
    ("potential", "Potential loyalists", "r >= 4"),
    ("promising", "Promising", "r = 3 AND f = 1"),
    ("attention", "Need attention", "r = 3"),
    ("lost", "Lost", "r = 1 AND f = 1"),
    ("hibernating", "Hibernating", "TRUE"),
]
RFM_CHOICES = [(key, label) for key, label, _ in RFM_SEGMENTS]

# (now) -> rows of (contact_id, points, interactions): the engagement's inputs.
_engagement: list[Callable[[datetime], QuerySet[Any]]] = []
# () -> rows of (contact_id, last_at, count, amount): the won deals'.
_value: list[Callable[[], QuerySet[Any]]] = []


def register_engagement(source: Callable[[datetime], QuerySet[Any]]) -> None:
    _engagement.append(source)


def register_value(source: Callable[[], QuerySet[Any]]) -> None:
    _value.append(source)


def scores_run(*, org: Organization, now: datetime | None = None) -> dict[str, int]:
    """Compute every contact's scores: one statement fills a temporary table of them, one
    upsert writes the rows that changed, one delete drops those of contacts that no longer
    score. How many rows were written and dropped."""
    now = now or timezone.now()
    parts, params = [], []
    for source in _engagement:
        sql, more = source(now).query.sql_with_params()
        parts.append(
            "SELECT contact_id, points, n, NULL::timestamptz AS last_at, 0 AS won, "  # noqa: S608
            f"NULL::numeric AS amount FROM ({sql}) e (contact_id, points, n)"  # nosec B608
        )
        params += list(more)
    for value in _value:
        sql, more = value().query.sql_with_params()
        parts.append(
            "SELECT contact_id, 0, 0, last_at, won, amount "  # noqa: S608  # nosec B608
            f"FROM ({sql}) v (contact_id, last_at, won, amount)"
        )
        params += list(more)
    if not parts:
        return {"written": 0, "dropped": 0}
    named = " ".join(f"WHEN {rule} THEN '{key}'" for key, _, rule in RFM_SEGMENTS)
    # The sources' own SQL and parameters (Django's); the rest is fixed here.
    scored = f"""
        WITH inputs AS ({" UNION ALL ".join(parts)}),
        per_contact AS (
            SELECT contact_id, sum(points) AS points, sum(n) AS n, max(last_at) AS last_at,
                   sum(won) AS won, sum(amount) AS amount
            FROM inputs GROUP BY contact_id
        ), ranked AS (
            SELECT *,
                CASE WHEN won > 0 THEN ntile(5) OVER (
                    PARTITION BY won > 0 ORDER BY last_at, contact_id) END AS r,
                CASE WHEN won > 0 THEN ntile(5) OVER (
                    PARTITION BY won > 0 ORDER BY won, contact_id) END AS f,
                CASE WHEN won > 0 THEN ntile(5) OVER (
                    PARTITION BY won > 0 ORDER BY coalesce(amount, 0), contact_id) END AS m
            FROM per_contact
        )
        SELECT contact_id, least(100, round(points * {SCORE_PER_POINT}))::int AS engagement,
               round(points::numeric, 2)::float AS points, n::int AS interactions,
               r, f, m, CASE WHEN won > 0 THEN CASE {named} END ELSE '' END AS rfm,
               last_at, won::int AS won, amount
        FROM ranked
        WHERE points > 0 OR won > 0
    """  # noqa: S608  # nosec B608
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS scores_now")
        cursor.execute(f"CREATE TEMPORARY TABLE scores_now ON COMMIT DROP AS {scored}", params)  # nosec B608
        cursor.execute("CREATE UNIQUE INDEX ON scores_now (contact_id)")
        cursor.execute("ANALYZE scores_now")
        cursor.execute(
            """
            INSERT INTO contacts_contactscore AS s (
                org_id, contact_id, engagement, engagement_points, interactions, recency,
                frequency, monetary, rfm_segment, last_won_at, won_deals, won_amount, scored_at)
            SELECT %s, n.contact_id, n.engagement, n.points, n.interactions, n.r, n.f, n.m,
                   n.rfm, n.last_at, n.won, n.amount, %s
            FROM scores_now n JOIN contacts_contact c ON c.id = n.contact_id
            WHERE c.deleted_at IS NULL
            ON CONFLICT (contact_id) DO UPDATE SET
                engagement = EXCLUDED.engagement, engagement_points = EXCLUDED.engagement_points,
                interactions = EXCLUDED.interactions, recency = EXCLUDED.recency,
                frequency = EXCLUDED.frequency, monetary = EXCLUDED.monetary,
                rfm_segment = EXCLUDED.rfm_segment, last_won_at = EXCLUDED.last_won_at,
                won_deals = EXCLUDED.won_deals, won_amount = EXCLUDED.won_amount,
                scored_at = EXCLUDED.scored_at
            WHERE (s.engagement, s.engagement_points, s.interactions, s.recency, s.frequency,
                   s.monetary, s.rfm_segment, s.won_deals, s.won_amount)
                IS DISTINCT FROM
                  (EXCLUDED.engagement, EXCLUDED.engagement_points, EXCLUDED.interactions,
                   EXCLUDED.recency, EXCLUDED.frequency, EXCLUDED.monetary,
                   EXCLUDED.rfm_segment, EXCLUDED.won_deals, EXCLUDED.won_amount)
            """,
            [org.pk, now],
        )
        written = cursor.rowcount
        cursor.execute(
            """
            DELETE FROM contacts_contactscore s
            WHERE NOT EXISTS (SELECT 1 FROM scores_now n WHERE n.contact_id = s.contact_id)
            """
        )
        dropped = cursor.rowcount
    return {"written": written, "dropped": dropped}


def rfm_label(key: str) -> str:
    return dict(RFM_CHOICES).get(key, key)
