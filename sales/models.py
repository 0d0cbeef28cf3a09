"""Pipelines and their stages, deals moving through them, and what the forecast needs:
lost reasons and dated exchange rates."""

from typing import ClassVar

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from crm.tenancy import TenantManager, TenantModel, TenantQuerySet


class Pipeline(TenantModel):
    """A sequence of stages a deal moves through: New business, Renewals…"""

    name = models.CharField(max_length=100)
    position = models.PositiveSmallIntegerField(default=0)
    # An open deal nobody touched for this many days is marked stale on the board.
    stale_days = models.PositiveSmallIntegerField(
        default=14, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    is_archived = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    owner_field = None  # a setting of the organisation

    class Meta:
        ordering = ("position", "id")
        constraints = [
            models.UniqueConstraint("org", Lower("name"), name="sales_pipeline_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Stage(TenantModel):
    """One step of a pipeline, with the chance that a deal in it is won."""

    class Kind(models.TextChoices):
        OPEN = "open", "Open"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(max_length=100)
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=4, choices=Kind.choices, default=Kind.OPEN)
    probability = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="The chance, in per cent, that a deal in this stage is won.",
    )  # fmt: skip
    is_archived = models.BooleanField(default=False)

    owner_field = None

    class Meta:
        ordering = ("position", "id")
        indexes = [models.Index(fields=["org", "pipeline", "position"], name="stage_org_order")]
        constraints = [
            models.CheckConstraint(
                condition=Q(probability__lte=100), name="sales_stage_probability_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.kind != self.Kind.OPEN


class LostReason(TenantModel):
    """Why deals are lost, from the organisation's own list."""

    name = models.CharField(max_length=100)
    position = models.PositiveSmallIntegerField(default=0)
    is_archived = models.BooleanField(default=False)

    owner_field = None

    class Meta:
        ordering = ("position", "id")
        constraints = [
            models.UniqueConstraint("org", Lower("name"), name="sales_lost_reason_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class ExchangeRate(TenantModel):
    """How much of the base currency one unit of `currency` is worth, from a date on."""

    currency = models.CharField(max_length=3)
    rate = models.DecimalField(max_digits=18, decimal_places=8)
    valid_from = models.DateField()

    owner_field = None

    class Meta:
        ordering = ("currency", "-valid_from")
        constraints = [
            models.UniqueConstraint("org", "currency", "valid_from", name="sales_rate_once"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="sales_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.rate} from {self.valid_from}"


class DealQuerySet(TenantQuerySet["Deal"]):
    def alive(self) -> "DealQuerySet":
        return self.filter(deleted_at__isnull=True)

    def trashed(self) -> "DealQuerySet":
        return self.filter(deleted_at__isnull=False)

    def open(self) -> "DealQuerySet":
        return self.filter(deleted_at__isnull=True, closed_at__isnull=True)

    def owned_by(self, user_id: int) -> "DealQuerySet":
        return self.filter(owner_id=user_id)


DealManager = TenantManager.from_queryset(DealQuerySet)


class Deal(TenantModel):
    """A sales opportunity moving through one pipeline."""

    title = models.CharField(max_length=200)
    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="deals")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="deals")
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, help_text="ISO 4217, e.g. EUR")
    # The amount in the organisation's base currency, at the rate in force on the deal's
    # date (closed, else expected close, else today): kept by the services, and again by
    # a change of rates, so that sums are one SQL aggregate. Null: no rate for it.
    amount_base = models.DecimalField(
        max_digits=16, decimal_places=2, null=True, blank=True, editable=False
    )
    close_date = models.DateField(null=True, blank=True, verbose_name="expected close")
    owner = models.ForeignKey(
        "crm.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="deals", verbose_name="primary contact",
    )  # fmt: skip
    company = models.ForeignKey(
        "contacts.Company", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="deals",
    )  # fmt: skip
    source = models.CharField(max_length=100, blank=True)
    custom = models.JSONField(default=dict, blank=True)
    lost_reason = models.ForeignKey(
        LostReason, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    lost_note = models.TextField(blank=True)
    # When it was won or lost; null while it is open (a reopened deal is open again).
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    stage_entered_at = models.DateTimeField(default=timezone.now, editable=False)
    # The last time anyone did something with it: an edit, a move, a logged interaction.
    touched_at = models.DateTimeField(default=timezone.now, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The furthest stage of its pipeline it has ever been in (won beyond every open stage,
    # lost never): the funnel counts deals by it rather than read their history. Kept by
    # the services, the import and the seeders; null for a deal only ever lost.
    furthest_stage = models.ForeignKey(
        Stage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        editable=False,
    )  # fmt: skip
    search_text = models.GeneratedField(
        expression=Lower("title"), output_field=models.TextField(), db_persist=True
    )

    objects: ClassVar[DealManager] = DealManager()  # type: ignore[assignment]

    owner_field = "owner"

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            # The board: a pipeline's open deals by stage.
            models.Index(
                fields=["org", "stage", "-touched_at"], name="deal_org_stage_open",
                condition=Q(deleted_at__isnull=True, closed_at__isnull=True),
            ),
            models.Index(fields=["org", "-created_at", "-id"], name="deal_org_created"),
            models.Index(fields=["org", "title", "id"], name="deal_org_title"),
            models.Index(fields=["org", "close_date", "id"], name="deal_org_close"),
            models.Index(fields=["org", "amount_base", "id"], name="deal_org_amount"),
            models.Index(fields=["org", "owner"], name="deal_org_owner"),
            models.Index(fields=["org", "contact"], name="deal_org_contact"),
            models.Index(fields=["org", "company"], name="deal_org_company"),
            models.Index(fields=["org", "pipeline", "closed_at"], name="deal_org_closed"),
            # The pipeline dashboard's deals closed in a period, summed from the index alone
            # (an index-only scan: no row of the table read).
            models.Index(
                fields=["org", "pipeline", "closed_at"], name="deal_org_closed_sums",
                include=["id", "stage", "amount_base", "owner", "created_at"],
                condition=Q(deleted_at__isnull=True, closed_at__isnull=False),
            ),
            # The funnel: the deals added in a period, counted by the furthest stage they
            # reached, from the index alone (an owner's too) rather than a row a deal.
            models.Index(
                fields=["org", "pipeline", "created_at"], name="deal_org_created_furthest",
                include=["furthest_stage", "owner"], condition=Q(deleted_at__isnull=True),
            ),
            # The few deals in the Trash, for the dashboard to leave their history out.
            models.Index(fields=["org", "id"], name="deal_org_trashed",
                         condition=Q(deleted_at__isnull=False)),
            GinIndex(OpClass("search_text", name="gin_trgm_ops"), name="deal_search_trgm"),
        ]  # fmt: skip
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0) | Q(amount__isnull=True),
                name="sales_deal_amount_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class DealContact(TenantModel):
    """Another contact on a deal besides its primary one."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="contact_links")
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.CASCADE, related_name="deal_links"
    )

    owner_field = None  # read through its deal

    class Meta:
        constraints = [models.UniqueConstraint(fields=["deal", "contact"], name="dealcontact_once")]
        indexes = [models.Index(fields=["org", "contact"], name="dealcontact_org_contact")]


class DealTag(TenantModel):
    """A tag on a deal: the organisation's tags, as on contacts and companies."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="tag_links")
    tag = models.ForeignKey("contacts.Tag", on_delete=models.CASCADE, related_name="+")

    owner_field = None

    class Meta:
        constraints = [models.UniqueConstraint(fields=["deal", "tag"], name="dealtag_once")]


class DealStageChange(TenantModel):
    """A deal moved from one stage to another (or was added, with no `from_stage`)."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(
        Stage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    to_stage = models.ForeignKey(
        Stage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The names as they were, for a stage renamed or deleted since.
    from_name = models.CharField(max_length=100, blank=True)
    to_name = models.CharField(max_length=100, blank=True)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        "crm.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # How long the deal had been in `from_stage`: the dashboard's time in each stage.
    seconds_in_from = models.PositiveIntegerField(null=True, blank=True)

    owner_field = None  # read through its deal

    class Meta:
        ordering = ("-at", "-id")
        indexes = [
            models.Index(fields=["org", "deal", "-at", "-id"], name="stagechange_deal_at"),
            models.Index(fields=["org", "at"], name="stagechange_org_at"),
            # The dashboard's time in stage and funnel over a period, from the index alone.
            models.Index(
                fields=["org", "at"],
                name="stagechange_org_at_sums",
                include=["deal", "from_stage", "to_stage", "seconds_in_from"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_name or '—'} → {self.to_name}"


class Target(TenantModel):
    """What a rep, or a team, is to win in one month, in the base currency."""

    user = models.ForeignKey(
        "crm.User", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    team = models.ForeignKey(
        "crm.Team", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    month = models.DateField(help_text="The first day of the month.")
    amount = models.DecimalField(max_digits=16, decimal_places=2)
    updated_at = models.DateTimeField(auto_now=True)

    owner_field = None  # a setting of the organisation: every member may read it

    class Meta:
        ordering = ("month", "id")
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, team__isnull=True)
                | Q(user__isnull=True, team__isnull=False),
                name="sales_target_user_or_team",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="sales_target_not_negative"),
            models.CheckConstraint(condition=Q(month__day=1), name="sales_target_first_of_month"),
            models.UniqueConstraint(
                fields=["org", "user", "month"], name="sales_target_user_month",
                condition=Q(user__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["org", "team", "month"], name="sales_target_team_month",
                condition=Q(team__isnull=False),
            ),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.user or self.team} {self.month:%Y-%m}: {self.amount}"
