"""Bring an organisation's deals up to benchmark size, fast: the deals planned in one
statement over generate_series into a temporary table and added by one INSERT … SELECT,
then the history of every deal without one by another, each committed on its own, run as
the app role with the organisation active, so that row-level security checks every row as
it checks the product's writes.

All go into the organisation's first pipeline: --open of them open, spread over its open
stages (fewer in the later ones; one in ten untouched for weeks, one in seven past its
expected close), the rest closed over the past year, about a third of them won. Each deal
walks forward from the stage it was added in to where it is, one stage change per step at
increasing times with the time spent in the stage before (about 3 changes a deal on
average). Amounts are lognormal between 2,000 and 120,000, about one deal in eight in EUR
or GBP (when the base currency is USD), owned by the organisation's members, on its
contacts and their companies.

It brings the count up to the size asked, so running it again adds only what is missing.
"""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from crm.models import Membership, Organization, Role
from crm.tenancy import activate
from sales import demo, pipelines, services
from sales.models import Deal, ExchangeRate, LostReason, Pipeline, Stage

# The statements are this module's constants; every value goes as a parameter.
PLAN = """
CREATE TEMP TABLE seed_deals ON COMMIT DROP AS
SELECT nextval(pg_get_serial_sequence('sales_deal', 'id')) AS id, p.*,
    p.ended - CASE WHEN p.kind = 'open' THEN p.reached * (2 + p.u_cycle * 20)
                   ELSE 7 + p.u_cycle * 120 END * interval '1 day' AS created
FROM (
    SELECT r.*,
        -- An open deal's stage: the later ones hold fewer.
        CASE WHEN r.kind = 'open'
             THEN least(%(last)s, floor(power(r.u_stage, 1.8) * (%(last)s + 1)))::int
        END AS reached,
        CASE WHEN r.kind <> 'open' THEN now() - r.u_when * interval '365 days'
             WHEN r.u_idle < 0.1 THEN now() - (15 + r.u_when * 45) * interval '1 day'
             ELSE now() - r.u_when * interval '10 days' END AS ended
    FROM (
        SELECT g AS n,
            CASE WHEN g <= %(open)s THEN 'open' WHEN random() < 0.35 THEN 'won' ELSE 'lost' END
                AS kind,
            random() AS u_stage, random() AS u_when, random() AS u_cycle, random() AS u_idle,
            random() AS u_close, random() AS u_cur, random() AS u_pick,
            -- Lognormal amounts (Box–Muller), rounded to hundreds, within the range.
            round(least(120000, greatest(2000, exp(9.6 + 0.8 * sqrt(-2 * ln(1 - random()))
                * cos(2 * pi() * random()))))::numeric, -2) AS amount,
            1 + floor(random() * %(contacts)s)::int AS contact_rank,
            (%(members)s::bigint[])[1 + floor(random() * cardinality(%(members)s::bigint[]))::int]
                AS owner_id
        FROM generate_series(1, %(deals)s) AS g
    ) AS r
) AS p
"""

DEALS = """
INSERT INTO sales_deal (
    id, org_id, title, pipeline_id, stage_id, amount, currency, amount_base, close_date,
    owner_id, contact_id, company_id, source, custom, lost_reason_id, lost_note, closed_at,
    stage_entered_at, touched_at, created_at, updated_at, deleted_at)
SELECT d.id, %(org)s,
    coalesce(nullif(c.company_name, ''), 'Deal ' || d.n) || ': '
        || (%(products)s::text[])[1 + floor(d.u_pick * cardinality(%(products)s::text[]))::int],
    %(pipeline)s,
    CASE d.kind WHEN 'won' THEN %(won)s WHEN 'lost' THEN %(lost)s
         ELSE (%(stages)s::bigint[])[d.reached + 1] END,
    d.amount, x.currency, CASE WHEN x.currency = %(base)s THEN d.amount END,
    CASE WHEN d.kind <> 'open' THEN d.ended::date
         ELSE (now() + (d.u_close * 140 - 20) * interval '1 day')::date END,
    d.owner_id, c.contact_id, c.company_id,
    (%(sources)s::text[])[1 + floor(d.u_cycle * cardinality(%(sources)s::text[]))::int],
    '{}'::jsonb,
    CASE WHEN d.kind = 'lost'
         THEN (%(reasons)s::bigint[])[1 + floor(d.u_pick * cardinality(%(reasons)s::bigint[]))::int]
    END,
    '', CASE WHEN d.kind <> 'open' THEN d.ended END, d.ended, d.ended, d.created, d.ended, NULL
FROM seed_deals d
LEFT JOIN seed_deal_contacts c ON c.rank = d.contact_rank
CROSS JOIN LATERAL (
    SELECT CASE WHEN cardinality(%(others)s::text[]) > 0 AND d.u_cur < 0.12
                THEN (%(others)s::text[])[1 + floor(d.u_cur / 0.12
                                                    * cardinality(%(others)s::text[]))::int]
                ELSE %(base)s END AS currency
) AS x
"""

# The history of every deal of the pipeline that has none: from the stage it was added in
# (the first, or a later one for a lead that came in qualified) forward to where it is (a
# lost deal: to where it was lost, then lost), at increasing times.
CHANGES = """
INSERT INTO sales_dealstagechange (
    org_id, deal_id, from_stage_id, to_stage_id, from_name, to_name, at, by_id,
    seconds_in_from)
SELECT %(org)s, s.id, lag(s.stage_id) OVER w, s.stage_id, coalesce(lag(s.name) OVER w, ''),
    s.name, s.at, s.owner_id, extract(epoch FROM s.at - lag(s.at) OVER w)::int
FROM (
    SELECT d.id, d.owner_id, j,
        CASE WHEN d.start + j <= d.reached THEN (%(stages)s::bigint[])[d.start + j + 1]
             WHEN d.kind = 'won' THEN %(won)s ELSE %(lost)s END AS stage_id,
        CASE WHEN d.start + j <= d.reached THEN (%(names)s::text[])[d.start + j + 1]
             WHEN d.kind = 'won' THEN %(won_name)s ELSE %(lost_name)s END AS name,
        -- Increasing: the j-th move falls within 0.4 of j/moves along the deal's life.
        CASE WHEN j = 0 THEN d.created_at WHEN j = d.moves THEN d.stage_entered_at
             ELSE d.created_at + (d.stage_entered_at - d.created_at)
                  * ((j + (random() - 0.5) * 0.8) / d.moves)
        END AS at
    FROM (
        SELECT d.*, d.reached - d.start + (d.kind <> 'open')::int AS moves
        FROM (
            -- An open deal past its first stage has moved at least once (it was added
            -- before it entered the stage it is in).
            SELECT d.*, greatest(0, least(d.reached - (d.kind = 'open')::int,
                CASE WHEN random() < 0.6 THEN 0 WHEN random() < 0.6 THEN 1 ELSE 2 END)) AS start
            FROM (
                SELECT d.id, d.owner_id, d.created_at, d.stage_entered_at, k.kind,
                    CASE k.kind
                        WHEN 'open'
                            THEN coalesce(array_position(%(stages)s::bigint[], d.stage_id), 1) - 1
                        WHEN 'won' THEN %(last)s
                        ELSE least(%(last)s, floor(-ln(1 - random()) / 1.2))::int END AS reached
                FROM sales_deal d
                CROSS JOIN LATERAL (
                    SELECT CASE d.stage_id WHEN %(won)s THEN 'won' WHEN %(lost)s THEN 'lost'
                                           ELSE 'open' END AS kind
                ) AS k
                WHERE d.pipeline_id = %(pipeline)s AND NOT EXISTS (
                    SELECT 1 FROM sales_dealstagechange c WHERE c.deal_id = d.id)
            ) AS d
        ) AS d
    ) AS d, generate_series(0, d.moves) AS j
) AS s
WINDOW w AS (PARTITION BY s.id ORDER BY s.j)
"""

# The furthest stage of every deal of the pipeline that has none, from the history just
# written (as sales migration 0004 works it out): won beyond every open stage, then the
# latest by position; lost never.
FURTHEST = """
UPDATE sales_deal AS d SET furthest_stage_id = f.stage_id
FROM (
    SELECT DISTINCT ON (c.deal_id) c.deal_id, s.id AS stage_id
    FROM sales_dealstagechange AS c
    JOIN sales_deal AS x ON x.id = c.deal_id
    JOIN sales_stage AS s ON s.id = c.to_stage_id AND s.pipeline_id = x.pipeline_id
    WHERE x.pipeline_id = %(pipeline)s AND x.furthest_stage_id IS NULL
        AND s.kind IN ('open', 'won')
    ORDER BY c.deal_id, s.kind = 'won' DESC, s.position DESC, s.id DESC
) AS f
WHERE d.id = f.deal_id
"""

PRODUCTS = [
    "Annual licence", "Team plan", "Enterprise upgrade", "Pilot project", "Onboarding",
    "Support contract", "Data migration", "Expansion", "Analytics add-on", "Training",
]  # fmt: skip
SOURCES = ["Website", "Referral", "Trade show", "Cold outreach", "Webinar", "Partner", ""]
# Who owns deals: the members who sell (everyone, in an organisation without them).
SELLERS = (Role.REP, Role.MANAGER, Role.ADMIN, Role.OWNER)


class Command(BaseCommand):
    help = "Bring an organisation's deals up to N, with a year of stage changes, fast."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="the organisation's slug")
        parser.add_argument("--deals", type=int, default=200_000)
        parser.add_argument(
            "--open", type=int, default=2_000, help="of them open, in the first pipeline"
        )
        parser.add_argument("--seed", type=float, default=0.42, help="random seed, -1 to 1")

    def handle(self, *args: Any, **options: Any) -> None:
        org = Organization.objects.filter(slug=options["org"]).first()
        if org is None:
            raise CommandError(f"No organisation has the slug {options['org']!r}.")
        self.verbosity, self.started = options["verbosity"], time.monotonic()
        with transaction.atomic(), activate(org):
            params = self._params(org) | {"seed": options["seed"]}
            added = self._deals(org, params, options["deals"], options["open"])
        # Committed and analysed before their history is written: the history's foreign keys
        # are checked against them one row at a time.
        if added:
            self._analyse("sales_deal")
        with transaction.atomic(), activate(org), connection.cursor() as cursor:
            cursor.execute("SELECT setseed(%s)", [options["seed"]])
            cursor.execute(CHANGES, params)
            changes = cursor.rowcount
            self._say(f"  {changes:,} stage changes")
            cursor.execute(FURTHEST, params)
            self._say(f"  {cursor.rowcount:,} furthest stages")
        if changes:
            self._analyse("sales_dealstagechange")
        self._say(f"Added {added:,} deals and {changes:,} stage changes to {org.slug}.")

    def _deals(self, org: Organization, params: dict[str, Any], target: int, open_: int) -> int:
        """Plan and add the deals missing (none when within 1 % of `target`, as the other
        seeders top up), with --open open ones in all; how many it added."""
        existing, already_open = Deal.objects.count(), Deal.objects.open().count()
        missing = target - existing
        if missing <= target * 0.01:
            self._say(f"{org.slug} has its deals ({existing:,}).")
            return 0
        params |= {"deals": missing, "open": min(missing, max(0, open_ - already_open))}
        with connection.cursor() as cursor:
            cursor.execute("SELECT setseed(%s)", [params["seed"]])
            params["contacts"] = self._contacts(cursor)
            cursor.execute("DROP TABLE IF EXISTS seed_deals")  # a run before in this transaction
            cursor.execute(PLAN, params)
            cursor.execute(DEALS, params)
            added = int(cursor.rowcount)
        for currency in params["others"]:  # at the rates of the days they closed
            services.deals_rebase(org=org, currency=currency)
        self._say(f"  {added:,} deals ({params['open']:,} open)")
        return added

    def _analyse(self, table: str) -> None:
        self._say(f"  {table} committed")
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
        self._say(f"  {table} analysed")

    def _say(self, line: str) -> None:
        """`line`, after the seconds since the start."""
        if self.verbosity:
            self.stdout.write(f"{time.monotonic() - self.started:6.1f} s  {line}")

    def _params(self, org: Organization) -> dict[str, Any]:
        """The first pipeline's stages, the lost reasons, the sellers and the currencies
        (with EUR and GBP rates added for a USD organisation), as the statements take them."""
        pipelines.pipelines_ensure(org=org)
        if org.base_currency == "USD":
            demo.add_rates(org=org, today=timezone.now().date())
        pipeline = Pipeline.objects.filter(is_archived=False).order_by("position", "id").first()
        if pipeline is None:
            raise CommandError(f"{org.slug} has no pipeline that is not archived.")
        stages = list(pipeline.stages.filter(is_archived=False).order_by("position", "id"))
        opened = [s for s in stages if s.kind == Stage.Kind.OPEN]
        won = next((s for s in stages if s.kind == Stage.Kind.WON), None)
        lost = next((s for s in stages if s.kind == Stage.Kind.LOST), None)
        reasons = list(LostReason.objects.filter(is_archived=False).values_list("pk", flat=True))
        if not opened or won is None or lost is None or not reasons:
            raise CommandError(f"{pipeline} needs open, won and lost stages and lost reasons.")
        members = Membership.objects.values_list("user_id", flat=True)
        sellers = list(members.filter(role__in=SELLERS)) or list(members)
        if not sellers:
            raise CommandError(f"{org.slug} has no members to own the deals.")
        others = sorted(
            set(ExchangeRate.objects.values_list("currency", flat=True)) - {org.base_currency}
        )
        return {
            "org": org.pk, "pipeline": pipeline.pk, "base": org.base_currency, "others": others,
            "stages": [s.pk for s in opened], "names": [s.name for s in opened],
            "last": len(opened) - 1, "won": won.pk, "won_name": won.name, "lost": lost.pk,
            "lost_name": lost.name, "reasons": reasons, "members": sellers,
            "products": PRODUCTS, "sources": SOURCES,
        }  # fmt: skip

    def _contacts(self, cursor: Any) -> int:
        """The organisation's contacts, numbered: a deal picks one by a random rank."""
        cursor.execute("DROP TABLE IF EXISTS seed_deal_contacts")
        cursor.execute(
            "CREATE TEMP TABLE seed_deal_contacts ON COMMIT DROP AS"
            " SELECT row_number() OVER (ORDER BY id) AS rank, id AS contact_id, company_id,"
            " company_name FROM contacts_contact WHERE deleted_at IS NULL"
        )
        cursor.execute("CREATE UNIQUE INDEX ON seed_deal_contacts (rank)")
        cursor.execute("ANALYZE seed_deal_contacts")
        cursor.execute("SELECT count(*) FROM seed_deal_contacts")
        return int(cursor.fetchone()[0])
