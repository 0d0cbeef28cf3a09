"""Amounts and durations as deal pages show them: {% load sales %}."""

from datetime import datetime
from decimal import Decimal

from django import template
from django.utils import timezone

from sales.money import money as _money

register = template.Library()


@register.filter
def money(amount: Decimal | None, currency: str) -> str:
    """{{ deal.amount|money:deal.currency }}: "€12,500"."""
    return _money(amount, currency)


@register.filter
def money_short(amount: Decimal | None, currency: str) -> str:
    """{{ total|money_short:org.base_currency }}: "€1.2M"."""
    return _money(amount, currency, short=True)


@register.filter
def days_since(when: datetime | None) -> int:
    """{{ deal.stage_entered_at|days_since }}: whole days until now."""
    return 0 if when is None else max(0, (timezone.now() - when).days)


@register.filter
def duration(seconds: int | None) -> str:
    """{{ change.seconds_in_from|duration }}: "3 days", "5 hours", "under an hour"."""
    if seconds is None:
        return ""
    days, hours = seconds // 86400, seconds // 3600
    if days:
        return f"{days} day{'s' if days != 1 else ''}"
    if hours:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return "under an hour"
