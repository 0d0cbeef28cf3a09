"""Bring an organisation's tickets up to benchmark size, fast: the tickets planned in one
statement over generate_series and added by one INSERT … SELECT, then each one's
conversation (the customer's message and, for those answered, the agent's reply) by
another, each committed on its own, run as the app role with the organisation active, so
that row-level security checks every row as it checks the product's writes.

Tickets are spread over the past year, more of them recent, in two queues, by priority
(mostly normal), owned by the organisation's agents (or its members), on its contacts.
All but --open of them are solved or closed; the open ones are new, open, pending or on
hold, some past their due time. Due times are the policy's targets in wall-clock time
from creation (the seeder does not reckon business hours: the pages read them the same).

It brings the count up to the size asked, so running it again adds only what is missing.
"""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from crm.models import Membership, Organization, Role
from crm.tenancy import activate
from support.models import BusinessCalendar, Queue, SlaPolicy, SlaTarget, Ticket

# The statements are this module's constants; every value goes as a parameter.
PLAN = """
CREATE TEMP TABLE seed_tickets ON COMMIT DROP AS
SELECT nextval(pg_get_serial_sequence('support_ticket', 'id')) AS id, r.*,
    -- The unsolved ones came in over the last fortnight; the rest over the year, more lately.
    now() - CASE WHEN r.is_open THEN r.u_when * interval '14 days'
                 ELSE power(r.u_when, 1.6) * interval '365 days' END AS created
FROM (
    SELECT g AS n, g <= %(open)s AS is_open,
        random() AS u_when, random() AS u_status, random() AS u_pick, random() AS u_first,
        random() AS u_solve, random() AS u_csat,
        CASE WHEN random() < 0.05 THEN 'urgent' WHEN random() < 0.2 THEN 'high'
             WHEN random() < 0.85 THEN 'normal' ELSE 'low' END AS priority,
        1 + floor(random() * %(contacts)s)::int AS contact_rank,
        (%(queues)s::bigint[])[1 + floor(random() * cardinality(%(queues)s::bigint[]))::int]
            AS queue_id,
        (%(agents)s::bigint[])[1 + floor(random() * cardinality(%(agents)s::bigint[]))::int]
            AS assignee_id
    FROM generate_series(1, %(tickets)s) AS g
) AS r
"""

TICKETS = """
INSERT INTO support_ticket (
    id, org_id, number, subject, requester_id, company_id, queue_id, assignee_id, priority,
    status, custom, policy_id, first_response_due, resolution_due, sla_pauses, sla_check_at,
    first_response_at, solved_at, closed_at, csat_score, csat_comment, csat_at,
    merged_into_id, touched_at, created_at, updated_at, deleted_at)
SELECT t.id, %(org)s, %(last)s + row_number() OVER (ORDER BY t.created, t.id),
    (%(subjects)s::text[])[1 + floor(t.u_pick * cardinality(%(subjects)s::text[]))::int],
    c.contact_id, c.company_id, t.queue_id,
    CASE WHEN t.is_open AND t.u_status < 0.15 THEN NULL ELSE t.assignee_id END,
    t.priority, s.status, '{}'::jsonb, %(policy)s,
    t.created + g.first_minutes * interval '1 minute',
    t.created + g.resolution_minutes * interval '1 minute',
    '[]'::jsonb, NULL,
    CASE WHEN s.status <> 'new' THEN t.created + t.u_first * 2 * g.first_minutes
         * interval '1 minute' END,
    CASE WHEN s.status IN ('solved', 'closed') THEN t.created + t.u_solve * 2
         * g.resolution_minutes * interval '1 minute' END,
    CASE WHEN s.status = 'closed' THEN t.created + (t.u_solve * 2 * g.resolution_minutes
         + 5760) * interval '1 minute' END,
    CASE WHEN s.status IN ('solved', 'closed') AND t.u_csat < 0.4
         THEN least(5, 1 + floor(power(t.u_csat / 0.4, 0.4) * 5))::int END,
    '',
    CASE WHEN s.status IN ('solved', 'closed') AND t.u_csat < 0.4
         THEN t.created + t.u_solve * 2 * g.resolution_minutes * interval '1 minute'
              + interval '3 hours' END,
    NULL, t.created, t.created, t.created, NULL
FROM seed_tickets t
LEFT JOIN seed_ticket_contacts c ON c.rank = t.contact_rank
JOIN seed_ticket_targets g ON g.priority = t.priority
CROSS JOIN LATERAL (
    SELECT CASE WHEN NOT t.is_open THEN CASE WHEN t.u_status < 0.3 THEN 'solved' ELSE 'closed' END
                WHEN t.u_status < 0.15 THEN 'new' WHEN t.u_status < 0.55 THEN 'open'
                WHEN t.u_status < 0.85 THEN 'pending' ELSE 'on_hold' END AS status
) AS s
"""

# How long each one waited, where it is not known: round the clock (the seeder does not
# reckon business hours, as it does not for due times).
WAITS = """
UPDATE support_ticket SET
    first_response_seconds = CASE WHEN first_response_at IS NOT NULL
        THEN extract(epoch FROM first_response_at - created_at)::int END,
    resolution_seconds = CASE WHEN solved_at IS NOT NULL
        THEN extract(epoch FROM solved_at - created_at)::int END
WHERE org_id = %(org)s
    AND ((first_response_at IS NOT NULL AND first_response_seconds IS NULL)
         OR (solved_at IS NOT NULL AND resolution_seconds IS NULL))
"""

# Each new ticket's conversation: the customer's message, and the agent's reply when it
# was answered.
CONVERSATION = """
INSERT INTO interactions_interaction (
    org_id, channel, direction, occurred_at, duration, outcome, subject, body, body_html,
    author_id, participants, contact_id, company_id, ticket_id, external_id, details,
    is_automatic, delivery, delivery_error, created_at, updated_at, deleted_at)
SELECT t.org_id, 'email', m.direction, m.at, NULL, '',
    CASE WHEN m.direction = 'inbound' THEN t.subject
         ELSE '[#' || t.number || '] ' || t.subject END,
    CASE WHEN m.direction = 'inbound' THEN 'Hello, ' || lower(t.subject) || '. Can you help?'
         ELSE 'Thanks for writing: we are looking into it and will be back shortly.' END,
    '', CASE WHEN m.direction = 'outbound' THEN t.assignee_id END, '[]'::jsonb,
    t.requester_id, t.company_id, t.id, '', '{}'::jsonb, false,
    CASE WHEN m.direction = 'outbound' THEN 'sent' ELSE '' END, '', m.at, m.at, NULL
FROM support_ticket t
CROSS JOIN LATERAL (
    SELECT 'inbound' AS direction, t.created_at AS at
    UNION ALL
    SELECT 'outbound', t.first_response_at WHERE t.first_response_at IS NOT NULL
) AS m
WHERE t.id >= %(first_id)s AND NOT EXISTS (
    SELECT 1 FROM interactions_interaction i WHERE i.ticket_id = t.id)
"""

SUBJECTS = [
    "Charged twice this month", "Invoice shows the wrong VAT number", "Refund request",
    "Card declined on renewal", "Copy of last year's invoices", "Export to CSV times out",
    "Cannot log in after a password reset", "Webhook stopped firing", "Import skips rows",
    "Two-factor codes rejected", "Dashboard loads slowly", "How do I add a colleague?",
]  # fmt: skip
TARGETS = {"urgent": (30, 240), "high": (60, 480), "normal": (240, 1440), "low": (480, 2400)}
WORKERS = (Role.AGENT, Role.MANAGER, Role.ADMIN, Role.OWNER)


class Command(BaseCommand):
    help = "Bring an organisation's tickets up to N, each with its conversation, fast."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="the organisation's slug")
        parser.add_argument("--tickets", type=int, default=200_000)
        parser.add_argument("--open", type=int, default=3_000, help="of them not yet solved")
        parser.add_argument("--seed", type=float, default=0.24, help="random seed, -1 to 1")

    def handle(self, *args: Any, **options: Any) -> None:
        org = Organization.objects.filter(slug=options["org"]).first()
        if org is None:
            raise CommandError(f"No organisation has the slug {options['org']!r}.")
        self.verbosity, self.started = options["verbosity"], time.monotonic()
        with transaction.atomic(), activate(org):
            added, first_id = self._tickets(org, options)
            with connection.cursor() as cursor:
                cursor.execute(WAITS, {"org": org.pk})
                if cursor.rowcount:
                    self._say(f"  {cursor.rowcount:,} tickets' waits")
        if not added:
            return
        self._analyse("support_ticket")
        with transaction.atomic(), activate(org), connection.cursor() as cursor:
            cursor.execute(CONVERSATION, {"first_id": first_id})
            messages = cursor.rowcount
        self._analyse("interactions_interaction")
        self._say(f"Added {added:,} tickets and {messages:,} messages to {org.slug}.")

    def _tickets(self, org: Organization, options: dict[str, Any]) -> tuple[int, int]:
        target = options["tickets"]
        existing = Ticket.objects.count()
        missing = target - existing
        if missing <= target * 0.01:
            self._say(f"{org.slug} has its tickets ({existing:,}).")
            return 0, 0
        params = self._params(org) | {
            "tickets": missing, "open": min(missing, options["open"]),
        }  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute("SELECT setseed(%s)", [options["seed"]])
            params["contacts"] = self._contacts(cursor)
            cursor.execute("DROP TABLE IF EXISTS seed_ticket_targets")
            cursor.execute(
                "CREATE TEMP TABLE seed_ticket_targets ON COMMIT DROP AS SELECT priority,"
                " first_response_minutes AS first_minutes, resolution_minutes"
                " FROM support_slatarget WHERE policy_id = %s",
                [params["policy"]],
            )
            cursor.execute("DROP TABLE IF EXISTS seed_tickets")
            cursor.execute(PLAN, params)
            cursor.execute("SELECT min(id) FROM seed_tickets")
            first_id = int(cursor.fetchone()[0])
            cursor.execute(TICKETS, params)
            added = int(cursor.rowcount)
            cursor.execute(
                "UPDATE support_supportsettings SET last_number = last_number + %s"
                " WHERE org_id = %s",
                [added, org.pk],
            )
        self._say(f"  {added:,} tickets ({params['open']:,} not solved)")
        return added, first_id

    def _params(self, org: Organization) -> dict[str, Any]:
        """The organisation's policy (made when it has none), two queues, the agents."""
        policy = SlaPolicy.objects.filter(is_default=True).first()
        if policy is None:
            calendar = BusinessCalendar.objects.create(org=org, name="Office hours",
                                                       zone=org.time_zone)  # fmt: skip
            policy = SlaPolicy.objects.create(org=org, name="Standard", calendar=calendar,
                                              is_default=True)  # fmt: skip
            SlaTarget.objects.bulk_create([
                SlaTarget(org=org, policy=policy, priority=priority,
                          first_response_minutes=first, resolution_minutes=resolution)
                for priority, (first, resolution) in TARGETS.items()
            ])  # fmt: skip
        for name in ("Billing", "Technical"):
            Queue.objects.get_or_create(org=org, name=name)
        queues = list(Queue.objects.filter(is_archived=False).values_list("pk", flat=True))
        members = Membership.objects.values_list("user_id", flat=True)
        agents = list(members.filter(role__in=WORKERS)) or list(members)
        if not agents:
            raise CommandError(f"{org.slug} has no members to give the tickets to.")
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO support_supportsettings (org_id, last_number, csat_enabled)"
                " VALUES (%s, 1000, true) ON CONFLICT (org_id) DO NOTHING",
                [org.pk],
            )
            cursor.execute(
                "SELECT last_number FROM support_supportsettings WHERE org_id = %s", [org.pk]
            )
            last = int(cursor.fetchone()[0])
        return {
            "org": org.pk, "policy": policy.pk, "queues": queues, "agents": agents,
            "subjects": SUBJECTS, "last": last,
        }  # fmt: skip

    def _contacts(self, cursor: Any) -> int:
        """The organisation's contacts, numbered: a ticket picks one by a random rank."""
        cursor.execute("DROP TABLE IF EXISTS seed_ticket_contacts")
        cursor.execute(
            "CREATE TEMP TABLE seed_ticket_contacts ON COMMIT DROP AS"
            " SELECT row_number() OVER (ORDER BY id) AS rank, id AS contact_id, company_id"
            " FROM contacts_contact WHERE deleted_at IS NULL"
        )
        cursor.execute("CREATE UNIQUE INDEX ON seed_ticket_contacts (rank)")
        cursor.execute("ANALYZE seed_ticket_contacts")
        cursor.execute("SELECT count(*) FROM seed_ticket_contacts")
        return max(1, int(cursor.fetchone()[0]))

    def _analyse(self, table: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
        self._say(f"  {table} committed and analysed")

    def _say(self, line: str) -> None:
        if self.verbosity:
            self.stdout.write(f"{time.monotonic() - self.started:6.1f} s  {line}")
