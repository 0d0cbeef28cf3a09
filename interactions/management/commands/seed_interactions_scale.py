"""Bring an organisation's interactions and tasks up to benchmark size, fast: one
INSERT … SELECT over generate_series per batch, run as the app role with the organisation
active, so that row-level security checks every row as it checks the product's writes.

How they spread over the contacts, as a CRM's do: a few contacts with very many, most with
a few (Zipf-like: the r-th contact of a shuffled order gets about K / r^0.6). One contact,
marked by its external ID, gets exactly --heavy interactions: the page `make bench` opens
for a long timeline. Interactions fall over the past two years on mixed channels and
directions, written by the organisation's members, each on its contact's company; tasks
are mostly done, the open ones due around now. Afterwards the contacts' last interaction
and next step, and the companies' last interaction, are set from them, set-based.

It brings the counts up to the sizes asked, so running it again adds only what is missing
(each batch commits on its own: an interrupted load resumes where it stopped).
"""

import math
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from crm.models import Membership, Organization
from crm.tenancy import activate

HEAVY_MARK = "seed:heavy-timeline"  # the external ID of the contact with --heavy interactions
SKEW = 0.6  # the exponent of the Zipf-like spread
BATCH = 250_000  # rows per INSERT: each batch commits, so memory and the WAL stay flat
UPDATE_BATCH = 50_000  # contacts per UPDATE of their last interaction and next step

# The statements are this module's constants; every value goes as a parameter.
INTERACTIONS = """
INSERT INTO interactions_interaction (
    org_id, channel, direction, occurred_at, duration, outcome, subject, body, body_html,
    author_id, participants, contact_id, company_id, external_id, details, is_automatic,
    delivery, delivery_error, created_at, updated_at, deleted_at)
SELECT %(org)s, s.channel,
    CASE WHEN s.channel IN ('note') THEN 'internal'
         WHEN s.channel IN ('web_form') OR s.v < 0.45 THEN 'inbound' ELSE 'outbound' END,
    s.at,
    CASE WHEN s.channel = 'call' THEN 30 + floor(s.w * 1800)::int
         WHEN s.channel = 'meeting' THEN 900 * (1 + floor(s.w * 4)::int) END,
    CASE WHEN s.channel <> 'call' THEN ''
         WHEN s.w < 0.6 THEN 'connected' WHEN s.w < 0.8 THEN 'no_answer'
         WHEN s.w < 0.95 THEN 'voicemail' ELSE 'busy' END,
    left((%(subjects)s::text[])[1 + floor(s.w * cardinality(%(subjects)s::text[]))::int]
         || coalesce(' – ' || nullif(s.company_name, ''), ''), 200),
    CASE WHEN s.channel IN ('email', 'note', 'chat', 'sms')
         THEN 'Thanks for the update. Following up on what we discussed about '
              || s.company_name || '; notes attached in the next message.' ELSE '' END,
    '',
    CASE WHEN s.channel IN ('email', 'web_form') AND s.v < 0.45 THEN NULL
         ELSE (%(members)s::bigint[])[1 + floor(s.t * cardinality(%(members)s::bigint[]))::int]
    END,
    '[]'::jsonb, s.contact_id, s.company_id, '', '{}'::jsonb,
    s.channel = 'email' AND s.v < 0.02, '', '', s.at, s.at, NULL
FROM (
    SELECT p.contact_id, p.company_id, p.company_name, random() AS v, random() AS w,
        random() AS t, now() - random() * interval '730 days' AS at,
        CASE WHEN u < 0.45 THEN 'email' WHEN u < 0.65 THEN 'call' WHEN u < 0.75 THEN 'meeting'
             WHEN u < 0.87 THEN 'note' WHEN u < 0.92 THEN 'chat' WHEN u < 0.95 THEN 'sms'
             WHEN u < 0.97 THEN 'social' WHEN u < 0.99 THEN 'web_form' ELSE 'letter' END
            AS channel
    FROM seed_plan p,
        LATERAL generate_series(1, CASE WHEN p.rank = 1 THEN %(heavy)s
            ELSE floor(%(k)s * power(p.rank - 1, -%(skew)s) + random())::int END) AS g,
        LATERAL (SELECT random() + 0 * g AS u) AS r
    WHERE p.rank >= %(lo)s AND p.rank < %(hi)s
) AS s
"""

TASKS = """
INSERT INTO interactions_task (
    org_id, title, notes, due_at, assignee_id, priority, status, reminder_at, reminded_at,
    contact_id, company_id, created_by_id, source_key, completed_at, created_at, updated_at,
    deleted_at)
SELECT %(org)s, s.title, '', s.due, s.assignee, s.priority, s.status, NULL, NULL,
    s.contact_id, s.company_id, s.assignee, '',
    CASE WHEN s.status = 'done' THEN least(now(), s.due + (s.w * 4 - 2) * interval '1 day') END,
    least(now(), coalesce(s.due, now())) - s.w * interval '14 days',
    least(now(), coalesce(s.due, now())), NULL
FROM (
    SELECT p.contact_id, p.company_id, x.w,
        left((%(titles)s::text[])[1 + floor(x.v * cardinality(%(titles)s::text[]))::int]
             || coalesce(' – ' || nullif(p.company_name, ''), ''), 200) AS title,
        (%(members)s::bigint[])[1 + floor(x.t * cardinality(%(members)s::bigint[]))::int]
            AS assignee,
        CASE WHEN x.v < 0.7 THEN 'normal' WHEN x.v < 0.85 THEN 'high' ELSE 'low' END
            AS priority,
        CASE WHEN x.u < %(done)s THEN 'done' ELSE 'open' END AS status,
        CASE WHEN x.u < %(done)s THEN now() - x.d * interval '730 days'
             WHEN x.d < 0.05 THEN NULL
             ELSE now() + (x.d * 60 - 20) * interval '1 day' END AS due
    FROM seed_plan p,
        LATERAL generate_series(1, floor(%(k)s * power(p.rank, -%(skew)s) + random())::int) AS g,
        LATERAL (SELECT random() + 0 * g AS u, random() AS v, random() AS w, random() AS t,
                        random() AS d) AS x
    WHERE p.rank >= %(lo)s AND p.rank < %(hi)s
) AS s
"""

SUBJECTS = [
    "Intro call", "Re: Proposal", "Pricing question", "Quarterly review", "Demo follow-up",
    "Re: Contract renewal", "Onboarding check-in", "Invoice query", "Re: Next steps",
    "Support escalation", "Product feedback", "Re: Meeting notes", "Budget approval",
    "Security questionnaire", "Re: Trial extension", "Kick-off", "Reference call",
]  # fmt: skip
TITLES = [
    "Call back", "Send the proposal", "Chase the signed contract", "Book a demo",
    "Send meeting notes", "Follow up on pricing", "Check in after onboarding",
    "Prepare the quarterly review", "Answer the security questionnaire", "Renewal reminder",
]  # fmt: skip


class Command(BaseCommand):
    help = "Bring an organisation's interactions and tasks up to N and M, fast."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="the organisation's slug")
        parser.add_argument("--interactions", type=int, default=5_000_000)
        parser.add_argument("--tasks", type=int, default=1_000_000)
        parser.add_argument(
            "--heavy", type=int, default=10_000,
            help="interactions of the one contact marked for a long timeline",
        )  # fmt: skip
        parser.add_argument("--open", type=float, default=0.15, help="share of open tasks")
        parser.add_argument("--seed", type=float, default=0.42, help="random seed, -1 to 1")

    def handle(self, *args: Any, **options: Any) -> None:
        org = Organization.objects.filter(slug=options["org"]).first()
        if org is None:
            raise CommandError(f"No organisation has the slug {options['org']!r}.")
        self.verbosity = options["verbosity"]
        started = time.monotonic()
        target, tasks_target = options["interactions"], options["tasks"]
        existing = self._count(org, "SELECT count(*) FROM interactions_interaction")
        on_heavy = self._count(
            org,
            "SELECT count(*) FROM interactions_interaction i JOIN contacts_contact c"
            " ON c.id = i.contact_id WHERE c.external_id = %s",
            [HEAVY_MARK],
        )
        top_up = max(0, min(options["heavy"], target) - on_heavy)
        rest = target - existing - top_up
        tasks = tasks_target - self._count(org, "SELECT count(*) FROM interactions_task")
        # As `make bench` tops contacts up: within 1 % of the size asked is loaded.
        rest = rest if rest > target * 0.01 else 0
        tasks = tasks if tasks > tasks_target * 0.01 else 0
        if not (rest or top_up or tasks):
            self._say(f"{org.slug} has its interactions and tasks ({existing:,}).")
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT setseed(%s)", [options["seed"]])
        with transaction.atomic(), activate(org):
            members = list(Membership.objects.values_list("user_id", flat=True))
            contacts = self._plan()
        if contacts == 0 or not members:
            raise CommandError(f"{org.slug} has no contacts or no members to seed from.")
        base = {"org": org.pk, "members": members, "skew": SKEW}
        added = added_tasks = 0
        if rest or top_up:
            self._say(f"Adding {rest + top_up:,} interactions to {org.slug}…")
            params = {**base, "subjects": SUBJECTS, "heavy": top_up}
            added = self._batches(org, INTERACTIONS, params, rest, contacts - 1, first=2)
        if tasks:
            self._say(f"Adding {tasks:,} tasks to {org.slug}…")
            params = {**base, "titles": TITLES, "done": 1 - options["open"]}
            added_tasks = self._batches(org, TASKS, params, tasks, contacts, first=1)
        loaded = time.monotonic()
        self._touch(org)
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS seed_plan")
            cursor.execute(
                "ANALYZE interactions_interaction; ANALYZE interactions_task;"
                " ANALYZE contacts_contact; ANALYZE contacts_company"
            )
        self._say(
            f"Added {added:,} interactions and {added_tasks:,} tasks to {org.slug} in "
            f"{loaded - started:.1f} s; contacts and companies updated and analysed in "
            f"{time.monotonic() - loaded:.1f} s."
        )

    def _say(self, line: str) -> None:
        if self.verbosity:
            self.stdout.write(line)

    def _count(self, org: Organization, sql: str, params: list[Any] | None = None) -> int:
        with transaction.atomic(), activate(org), connection.cursor() as cursor:
            cursor.execute(sql, params or [])
            return int(cursor.fetchone()[0])

    def _plan(self) -> int:
        """The organisation's contacts in a shuffled, repeatable order, the marked one first
        (marking one when none is): the rank the spread is computed from. A session's
        temporary table, as the batches commit one by one."""
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS seed_plan")
            cursor.execute(
                "UPDATE contacts_contact SET external_id = %s WHERE id = ("
                " SELECT id FROM contacts_contact WHERE deleted_at IS NULL"
                " ORDER BY company_id IS NULL, md5(id::text), id LIMIT 1)"
                " AND NOT EXISTS (SELECT 1 FROM contacts_contact WHERE external_id = %s)",
                [HEAVY_MARK, HEAVY_MARK],
            )
            cursor.execute(
                "CREATE TEMP TABLE seed_plan AS SELECT row_number() OVER ("
                " ORDER BY external_id = %s DESC, md5(id::text), id) AS rank,"
                " id AS contact_id, company_id, company_name"
                " FROM contacts_contact WHERE deleted_at IS NULL",
                [HEAVY_MARK],
            )
            cursor.execute("CREATE INDEX ON seed_plan (rank)")
            cursor.execute("ANALYZE seed_plan")
            cursor.execute("SELECT count(*) FROM seed_plan")
            return int(cursor.fetchone()[0])

    def _batches(
        self, org: Organization, sql: str, params: dict[str, Any], total: int, ranks: int,
        first: int,
    ) -> int:  # fmt: skip
        """Run `sql` over ranks in batches of about BATCH rows: K is chosen so that the r-th
        of `ranks` contacts gets K / r^SKEW on average, `total` in all."""
        weights = [j**-SKEW for j in range(1, ranks + 1)]
        k = total / math.fsum(weights) if ranks and total > 0 else 0.0
        # The first batch also carries the marked contact's top-up (rank 1), if any.
        bounds, lo, sum_ = [], 1, float(params.get("heavy", 0))
        for j, weight in enumerate(weights, start=1):
            sum_ += k * weight
            if sum_ >= BATCH:
                bounds.append((lo, j + first))
                lo, sum_ = j + first, 0.0
        bounds.append((lo, ranks + first))
        added = 0
        for lo, hi in bounds:
            started = time.monotonic()
            with transaction.atomic(), activate(org), connection.cursor() as cursor:
                cursor.execute(sql, {**params, "k": k, "lo": lo, "hi": hi})
                rows = int(cursor.rowcount)
            added += rows
            self._say(f"  {added:,} rows ({rows:,} in {time.monotonic() - started:.1f} s)")
        return added

    def _touch(self, org: Organization) -> None:
        """The contacts' last interaction and next step, and the companies' last
        interaction, from what was loaded: aggregated once, then written by id range."""
        started = time.monotonic()
        with transaction.atomic(), activate(org), connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS seed_touch")
            cursor.execute(
                "CREATE TEMP TABLE seed_touch AS"
                " SELECT p.contact_id AS id, i.last, t.due_at, coalesce(t.title, '') AS title"
                " FROM seed_plan p"
                " LEFT JOIN (SELECT contact_id, max(occurred_at) AS last"
                "  FROM interactions_interaction WHERE deleted_at IS NULL AND NOT is_automatic"
                "  GROUP BY contact_id) AS i ON i.contact_id = p.contact_id"
                " LEFT JOIN (SELECT DISTINCT ON (contact_id) contact_id, due_at, title"
                "  FROM interactions_task WHERE status = 'open' AND deleted_at IS NULL"
                "  ORDER BY contact_id, due_at ASC NULLS LAST, id) AS t"
                "  ON t.contact_id = p.contact_id"
            )
            cursor.execute("CREATE INDEX ON seed_touch (id)")
            cursor.execute("SELECT min(id), max(id) FROM seed_touch")
            low, high = cursor.fetchone()
        self._say(f"  aggregated in {time.monotonic() - started:.1f} s")
        for lo in range(low or 0, (high or -1) + 1, UPDATE_BATCH):
            with transaction.atomic(), activate(org), connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE contacts_contact c SET last_interaction_at = s.last,"
                    " next_step_at = s.due_at, next_step = s.title FROM seed_touch s"
                    " WHERE c.id = s.id AND s.id >= %s AND s.id < %s AND ("
                    " c.last_interaction_at IS DISTINCT FROM s.last"
                    " OR c.next_step_at IS DISTINCT FROM s.due_at OR c.next_step <> s.title)",
                    [lo, lo + UPDATE_BATCH],
                )
        self._say(f"  contacts updated in {time.monotonic() - started:.1f} s")
        with transaction.atomic(), activate(org), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE contacts_company c SET last_interaction_at = i.last"
                " FROM (SELECT company_id, max(occurred_at) AS last"
                "  FROM interactions_interaction WHERE deleted_at IS NULL AND NOT is_automatic"
                "  AND company_id IS NOT NULL GROUP BY company_id) AS i"
                " WHERE c.id = i.company_id AND c.last_interaction_at IS DISTINCT FROM i.last"
            )
            cursor.execute("DROP TABLE seed_touch")
        self._say(f"  companies updated; {time.monotonic() - started:.1f} s in all")
