"""Sales' demo data for `seed_demo`: two pipelines and a year of deals that moved through
them as real ones do (mostly forward, now and then back a step, some won, some lost, some
still open: a few of those past their expected close, a few nobody touched for weeks), so
that the board, the forecast and the pipeline dashboard tell a story on first login."""

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from django.db.models import Max, OuterRef, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from contacts.models import Contact
from crm.models import Organization, User
from crm.staging import update_records
from interactions.models import Interaction, Task
from sales import dashboard, pipelines, services
from sales.models import Deal, DealStageChange, ExchangeRate, LostReason, Pipeline, Stage

RENEWAL_STAGES = (
    ("Upcoming", 30, Stage.Kind.OPEN),
    ("In conversation", 60, Stage.Kind.OPEN),
    ("Renewed", 100, Stage.Kind.WON),
    ("Churned", 0, Stage.Kind.LOST),
)
NEW_DEALS, RENEWALS = 150, 35
# (won, lost) shares; the rest stay open. Renewals are won more often than new business.
OUTCOMES = {"new": (0.22, 0.22), "renewal": (0.40, 0.12)}
# USD for one unit, from the oldest to the latest, a few months apart: a year of drift.
RATES = {
    "EUR": ("1.0820", "1.0935", "1.1310", "1.1650", "1.1580"),
    "GBP": ("1.2640", "1.2810", "1.3270", "1.3490", "1.3410"),
}
# A company's deals are in its own currency when it has one of these.
LOCAL_CURRENCY = {"GB": "GBP", "DE": "EUR", "FR": "EUR"}
PRODUCTS = [
    "Annual licence", "Team plan, 25 seats", "Team plan, 60 seats", "Enterprise upgrade",
    "Pilot project", "Onboarding package", "Support contract", "Data migration",
    "Second office roll-out", "Analytics add-on", "Training days", "API access",
]  # fmt: skip
SOURCES = ["Website", "Referral", "Trade show", "Cold outreach", "Webinar", "Partner"]
LOST_NOTES = [
    "", "", "Went quiet after the proposal.", "Their budget moved to next year.",
    "Picked a cheaper tool.", "The champion left the company.",
]  # fmt: skip


@dataclass
class _Plan:
    """One demo deal's life: the stages it went through and when."""

    created: datetime
    path: list[Stage]
    times: list[datetime]
    close_date: date
    stale: bool = False  # open, and left alone for weeks


def seed(sender: Any, *, org: Organization, users: dict[str, User], **kwargs: Any) -> None:
    """Add the demo organisation's pipelines and deals (once)."""
    if Deal.objects.exists():
        return  # seeded before: seed_demo is run again on every `make run`
    found = Contact.objects.filter(deleted_at__isnull=True).select_related("company")
    contacts = cast(list[Contact], list(found.order_by("pk")))
    if not contacts:
        return
    rng = random.Random(f"{org.slug}-deals")  # noqa: S311  # nosec B311  # repeatable demo data
    new, renewals = _pipelines(org)
    reasons = list(LostReason.objects.filter(is_archived=False))
    now = timezone.now()
    if org.base_currency == "USD":
        add_rates(org=org, today=now.date())
    owners = [u for u in (users.get("rep"), users.get("rep"), users.get("rep"),
                          users.get("manager")) if u is not None]  # fmt: skip
    kinds = ["new"] * NEW_DEALS + ["renewal"] * RENEWALS
    rng.shuffle(kinds)
    priced = {org.base_currency, *ExchangeRate.objects.values_list("currency", flat=True)}
    stages = {p.pk: list(p.stages.order_by("position")) for p in (new, renewals)}
    lives = []
    for kind in kinds:
        pipeline = new if kind == "new" else renewals
        contact = rng.choice(contacts)
        plan = _plan(rng, stages[pipeline.pk], kind, now)
        currency = LOCAL_CURRENCY.get(getattr(contact.company, "country", ""), "")
        currency = currency if currency in priced else org.base_currency
        deal = _add(org, rng, pipeline, plan, contact, rng.choice(owners), kind, currency)
        lives.append((deal, plan))
    _backdate(lives)
    for deal, plan in lives:
        _move(org, rng, deal, plan, reasons)
    _link(lives, now)
    _targets(org, owners, now.date())


def _targets(org: Organization, owners: list[User], today: date) -> None:
    """A monthly target for each owner, from a year back to six months on: what the
    forecast sets the months' wins against."""
    first = date(today.year - 1, today.month, 1)
    for person in dict.fromkeys(owners):  # each once, the rep first
        amount = Decimal(30_000 if person is owners[0] else 12_000)
        for step in range(18):
            year, month = divmod(first.month - 1 + step, 12)
            month_start = date(first.year + year, month + 1, 1)
            dashboard.target_set(org=org, by=None, month=month_start, amount=amount, user=person)


def _pipelines(org: Organization) -> tuple[Pipeline, Pipeline]:
    """New business (the default stages) and Renewals, with the usual lost reasons."""
    pipelines.pipelines_ensure(org=org)
    new = Pipeline.objects.order_by("position", "id")[0]  # pipelines_ensure made one
    if new.name == "Sales pipeline":  # the default's name: the demo's says what it is for
        new.name = "New business"
        new.save(update_fields=["name"])
    renewals = Pipeline.objects.filter(name__iexact="Renewals").first()
    if renewals is None:
        renewals = pipelines.pipeline_create(org=org, by=None, name="Renewals",
                                             stages=RENEWAL_STAGES)  # fmt: skip
    if not LostReason.objects.exists():  # an organisation that removed them all
        LostReason.objects.bulk_create([
            LostReason(org=org, name=name, position=i)
            for i, name in enumerate(pipelines.DEFAULT_LOST_REASONS)
        ])  # fmt: skip
    return new, renewals


def add_rates(*, org: Organization, today: date) -> None:
    """A few dated rates over the year for EUR and GBP against USD (those not there yet);
    seed_deals_scale's too."""
    for currency, rates in RATES.items():
        if ExchangeRate.objects.filter(currency=currency).exists():
            continue
        ExchangeRate.objects.bulk_create([
            ExchangeRate(org=org, currency=currency, rate=Decimal(rate),
                         valid_from=today - timedelta(days=400 - 90 * i))
            for i, rate in enumerate(rates)
        ])  # fmt: skip


def _plan(rng: random.Random, stages: list[Stage], kind: str, now: datetime) -> _Plan:
    """Where a deal went and when: won and lost deals over the past year, open ones added
    lately and moved in the last days (a few left alone for weeks: stale)."""
    open_stages = [s for s in stages if s.kind == Stage.Kind.OPEN]
    won = next(s for s in stages if s.kind == Stage.Kind.WON)
    lost = next(s for s in stages if s.kind == Stage.Kind.LOST)
    won_share, lost_share = OUTCOMES[kind]
    roll = rng.random()
    if roll < won_share + lost_share:
        created = now - timedelta(days=rng.uniform(25, 365))
        end = created + timedelta(days=rng.uniform(10, min((now - created).days - 2, 150)))
        if roll < won_share:
            path = [*_forward(rng, open_stages, len(open_stages) - 1), won]
        else:  # lost early more often than late
            reached = min(int(rng.expovariate(1.2)), len(open_stages) - 1)
            path = [*_forward(rng, open_stages, reached), lost]
        close_date = end.date() if path[-1] == won else end.date() + timedelta(rng.randint(0, 30))
        return _Plan(created, path, _times(rng, created, end, len(path) - 1), close_date)
    # Later stages hold fewer deals, and deals that have been around for longer.
    weights = [len(open_stages) - i + 1 for i in range(len(open_stages))]
    reached = rng.choices(range(len(open_stages)), weights)[0]
    path = _forward(rng, open_stages, reached)
    stale = rng.random() < 0.12
    end = now - timedelta(days=rng.uniform(20, 45) if stale else rng.uniform(0.2, 9))
    created = end  # not moved since it was added
    if len(path) > 1:
        created = min(now - timedelta(days=rng.uniform(6 + 10 * reached, 50 + 25 * reached)),
                      end - timedelta(days=len(path)))  # fmt: skip
    slipping = rng.random() < 0.1
    ahead = -rng.randint(3, 25) if slipping else rng.randint(4, 120)
    return _Plan(created, path, _times(rng, created, end, len(path) - 1),
                 now.date() + timedelta(days=ahead), stale=stale)  # fmt: skip


def _forward(rng: random.Random, stages: list[Stage], reached: int) -> list[Stage]:
    """The open stages a deal went through up to `reached`: in order, now and then one
    skipped, now and then a step back (a proposal reworked) and forward again."""
    path = [stages[0] if rng.random() < 0.85 else stages[min(1, reached)]]
    for i in range(stages.index(path[0]) + 1, reached + 1):
        if i < reached and rng.random() < 0.1:
            continue  # skipped
        path.append(stages[i])
        if i >= 2 and rng.random() < 0.12:
            path += [stages[i - 1], stages[i]]
    return path


def _times(rng: random.Random, start: datetime, end: datetime, moves: int) -> list[datetime]:
    """When each of `moves` moves happened: increasing, the last at `end`."""
    span = (end - start).total_seconds()
    points = sorted(rng.uniform(0.05, 0.95) for _ in range(max(0, moves - 1)))
    return [start + timedelta(seconds=span * p) for p in points] + ([end] if moves else [])


def _add(
    org: Organization, rng: random.Random, pipeline: Pipeline, plan: _Plan, contact: Contact,
    owner: User, kind: str, currency: str,
) -> Deal:  # fmt: skip
    """Add the deal as it was on its first day, through the service, so that its history
    is the one the product would have kept."""
    company = contact.company
    # Lognormal, as deal sizes are: most around 10 to 20 thousand, a long tail up to the cap.
    amount = min(max(rng.lognormvariate(9.7 if kind == "new" else 9.3, 0.8), 2_000), 120_000)
    name = company.name if company else str(contact)
    title = f"{name} renewal" if kind == "renewal" else f"{name}: {rng.choice(PRODUCTS)}"
    return services.deal_create(
        org=org, by=owner, title=title, pipeline=pipeline,
        stage=plan.path[0], amount=Decimal(int(round(amount, -2))), currency=currency,
        close_date=plan.close_date, owner=owner, contact=contact, company=company,
        source=rng.choice(SOURCES) if kind == "new" else "",
    )  # fmt: skip


def _backdate(lives: list[tuple[Deal, _Plan]]) -> None:
    """The deals were added back then, and so were their first stage changes (from
    nothing): before they move, which counts the time in a stage from stage_entered_at."""
    for deal, plan in lives:
        deal.created_at = deal.stage_entered_at = deal.touched_at = plan.created
    update_records(Deal, ["created_at", "stage_entered_at", "touched_at"],
                   [(d.pk, p.created, p.created, p.created) for d, p in lives])  # fmt: skip
    added = Deal.objects.filter(pk=OuterRef("deal_id")).values("created_at")[:1]
    DealStageChange.objects.filter(
        deal__in=[d.pk for d, _ in lives], from_stage__isnull=True
    ).update(at=Subquery(added))


def _move(
    org: Organization, rng: random.Random, deal: Deal, plan: _Plan, reasons: list[LostReason]
) -> None:
    """Move the deal as it moved, each time by its owner, through the service."""
    for stage, at in zip(plan.path[1:], plan.times, strict=True):
        lost = stage.kind == Stage.Kind.LOST
        services.deal_move(
            org=org, deal=deal, stage=stage, by=deal.owner, at=at,
            lost_reason=rng.choice(reasons) if lost else None,
            lost_note=rng.choice(LOST_NOTES) if lost else "",
        )  # fmt: skip


def _link(lives: list[tuple[Deal, _Plan]], now: datetime) -> None:
    """The contact's interactions while the deal was alive become the deal's (an open deal
    someone works on: touched when the latest was), and the contact's tasks its open deal's,
    so that deal timelines are not empty."""
    working = []
    for deal, plan in lives:
        end = plan.times[-1] if plan.times else plan.created
        if deal.closed_at is None and not plan.stale:
            working.append(deal.pk)
            end = now
        if deal.contact_id is not None:
            Interaction.objects.filter(
                contact_id=deal.contact_id, deal__isnull=True,
                occurred_at__gte=plan.created, occurred_at__lte=end,
            ).update(deal=deal)  # fmt: skip
    latest = (
        Interaction.objects.filter(deal=OuterRef("pk")).order_by()
        .values("deal").annotate(at=Max("occurred_at")).values("at")
    )  # fmt: skip
    Deal.objects.filter(pk__in=working).update(
        touched_at=Greatest("touched_at", Coalesce(Subquery(latest), "touched_at"))
    )
    open_deals = {d.contact_id: d.pk for d, _ in reversed(lives) if d.closed_at is None}
    for contact_id, deal_id in open_deals.items():
        if contact_id is not None:
            Task.objects.filter(contact_id=contact_id, deal__isnull=True).update(deal_id=deal_id)
