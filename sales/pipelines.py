"""Writes to the organisation's sales set-up: pipelines and their stages, lost reasons and
exchange rates (Settings → Pipelines). Every one is audited."""

from django.db import transaction

from crm.audit import audit_record
from crm.db import advisory_lock
from crm.models import Organization, User
from sales.models import LostReason, Pipeline, Stage

# A new organisation's first pipeline: (name, probability, kind).
DEFAULT_STAGES = (
    ("Qualification", 10, Stage.Kind.OPEN),
    ("Discovery", 25, Stage.Kind.OPEN),
    ("Proposal", 50, Stage.Kind.OPEN),
    ("Negotiation", 75, Stage.Kind.OPEN),
    ("Won", 100, Stage.Kind.WON),
    ("Lost", 0, Stage.Kind.LOST),
)
DEFAULT_LOST_REASONS = ("Price", "Chose a competitor", "No budget", "No decision", "Timing")


@transaction.atomic
def pipeline_create(
    *, org: Organization, by: User | None, name: str,
    stages: tuple[tuple[str, int, str], ...] = DEFAULT_STAGES,
) -> Pipeline:  # fmt: skip
    """Add a pipeline with these stages (by default: qualification to won or lost)."""
    position = Pipeline.objects.count()
    pipeline = Pipeline.objects.create(org=org, name=name.strip(), position=position)
    Stage.objects.bulk_create([
        Stage(org=org, pipeline=pipeline, name=stage, probability=chance, kind=kind, position=i)
        for i, (stage, chance, kind) in enumerate(stages)
    ])  # fmt: skip
    audit_record(org=org, actor=by, action="pipeline.created", target=pipeline)
    return pipeline


def pipelines_ensure(*, org: Organization) -> None:
    """Give an organisation without a pipeline its first one, and the usual lost reasons:
    what the deals' pages need before anyone has been to Settings."""
    if Pipeline.objects.exists():
        return
    with transaction.atomic():
        advisory_lock(f"sales.pipelines_ensure:{org.pk}")  # two first visits at once
        if Pipeline.objects.exists():
            return
        pipeline_create(org=org, by=None, name="Sales pipeline")
        if not LostReason.objects.exists():
            LostReason.objects.bulk_create([
                LostReason(org=org, name=name, position=i)
                for i, name in enumerate(DEFAULT_LOST_REASONS)
            ])  # fmt: skip
