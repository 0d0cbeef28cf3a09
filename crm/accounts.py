"""How sign-in behaves here, through allauth's adapter: the client's address as the
deployment's proxies pass it on, and the soft lockout of an account (crm.lockout)."""

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.signals import password_reset
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from crm import lockout
from crm.middleware import session_started
from crm.requests import client_ip


class AccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request: HttpRequest) -> str:
        # Bandit B104: the key a client with no address is rate-limited by; nothing binds to it.
        return client_ip(request) or "0.0.0.0"  # noqa: S104  # nosec B104

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        wait = lockout.wait_seconds(credentials.get("email") or "")
        if wait:
            raise ValidationError(
                f"Too many failed sign-ins for this account. Try its password again in "
                f"{lockout.describe(wait)}, or sign in with a code sent to your email.",
                code="account_waiting",
            )
        super().pre_authenticate(request, **credentials)

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        lockout.record_failure(credentials.get("email") or "")


def _restart_count(sender: Any, user: AbstractBaseUser, **kwargs: Any) -> None:
    """Whichever way the owner got in (password, emailed code) or reset their password,
    their account's count of failures restarts."""
    lockout.clear(getattr(user, "email", ""))


def connect() -> None:
    user_logged_in.connect(_restart_count, dispatch_uid="crm.lockout.logged_in")
    user_logged_in.connect(session_started, dispatch_uid="crm.session.started")
    password_reset.connect(_restart_count, dispatch_uid="crm.lockout.password_reset")
