"""Signals the platform sends for the domain apps to join in."""

from django.dispatch import Signal

# Sent by `seed_demo` inside the organisation, with `org` and `users` ({role: User}): each
# domain app adds its own realistic demo records (once: it checks for its own first).
demo_seeded = Signal()
