"""Amounts as people read them: "€12,500", "$1,200.50", "CHF 9,000"."""

from decimal import ROUND_HALF_UP, Decimal

from sales import currencies


def money(amount: Decimal | int | float | None, currency: str, *, short: bool = False) -> str:
    """An amount in its currency, with thousands grouped; whole amounts without decimals.
    `short` rounds to thousands or millions for a board's column header: "€1.2M"."""
    if amount is None:
        return ""
    value = Decimal(amount)
    symbol = currencies.SYMBOLS.get(currency)
    sign = "-" if value < 0 else ""
    value = abs(value)
    if short and value >= 1000:
        for limit, suffix in ((Decimal(1_000_000_000), "B"), (Decimal(1_000_000), "M"),
                              (Decimal(1000), "k")):  # fmt: skip
            if value >= limit:
                scaled = (value / limit).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
                text = f"{scaled:f}".removesuffix(".0") + suffix
                break
    elif currency in currencies.NO_DECIMALS or value == value.to_integral_value():
        text = f"{value.quantize(Decimal(1), rounding=ROUND_HALF_UP):,}"
    else:
        text = f"{value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,}"
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency}"
