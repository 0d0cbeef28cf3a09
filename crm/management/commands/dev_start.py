"""What `make run` does before it serves, in one process: migrate, then seed the demo.

Each manage.py process spends a few seconds importing the project; two in a row were a
good part of a second `make run`'s start."""

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Migrate, then create or update the demo organisation (as `make run` does)."

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("seed_demo", org="demo", stdout=self.stdout)
