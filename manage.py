#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as error:
        # A setting the environment has to give (SECRET_KEY with DEBUG off, DATABASE_URL):
        # its message says which and how, and a traceback would only bury it.
        sys.exit(f"manage.py: {error}")


if __name__ == "__main__":
    main()
