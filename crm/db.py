"""Database roles: web, workers and tests connect as the app role; schema changes run as the owner.

The app role owns nothing, is neither superuser nor BYPASSRLS and has no TRUNCATE, so
row-level security applies to everything it does. `manage.py migrate` and `flush` switch to
the owner connection (DATABASE_OWNER_URL) for their work and grant the app role what it
needs on the tables they create.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import environ
from django.conf import settings
from django.db import connections

_CREDENTIALS = ("USER", "PASSWORD", "HOST", "PORT")


def owner_credentials() -> dict[str, object] | None:
    if not settings.DATABASE_OWNER_URL:
        return None
    config = environ.Env.db_url_config(settings.DATABASE_OWNER_URL)
    return {key: config.get(key, "") for key in _CREDENTIALS}


@contextmanager
def as_owner(alias: str = "default") -> Iterator[None]:
    """Run the block on a connection as the owner role (same database), then switch back."""
    owner = owner_credentials()
    connection = connections[alias]
    if owner is None or connection.settings_dict["USER"] == owner["USER"]:
        yield
        return
    saved = {key: connection.settings_dict[key] for key in _CREDENTIALS}
    connection.close()
    connection.settings_dict.update(owner)
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(saved)


def grant_app_role(alias: str = "default") -> None:
    """Give the app role row access to every table (never TRUNCATE, never ownership), but
    only reading crm_searchable, the list of tables that search may read past the policy,
    which migrations alone write (crm migration 0004), and never deleting from the audit
    log, which it may only append to (crm migration 0005)."""
    app_user = settings.DATABASE_APP_USER
    connection = connections[alias]
    if not app_user or app_user == connection.settings_dict["USER"]:
        return
    role = connection.ops.quote_name(app_user)  # an identifier: quoted, never a parameter
    with connection.cursor() as cursor:
        # Bandit B608: DDL takes no parameters; the one name in it is the configured role, quoted.
        cursor.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}; "  # nosec B608
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}; "
            f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {role}; "
            f"REVOKE TRUNCATE ON ALL TABLES IN SCHEMA public FROM {role}; "
            "DO $$ BEGIN IF to_regclass('crm_searchable') IS NOT NULL THEN "
            f"EXECUTE 'REVOKE INSERT, UPDATE, DELETE ON crm_searchable FROM {role}'; "
            "END IF; IF to_regclass('crm_auditevent') IS NOT NULL THEN "
            f"EXECUTE 'REVOKE DELETE ON crm_auditevent FROM {role}'; "
            "END IF; END $$;"
        )


def advisory_lock(key: str) -> None:
    """Wait for, and hold until the transaction ends, the lock named `key`: two requests
    that would both create the same row (a lead for a new address) take turns."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [key])
