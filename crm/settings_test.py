"""Test-only speed-ups on top of the real settings; everything else is as in production."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-any-deployment")

from crm.settings import *  # noqa: F403
from crm.settings import INSTALLED_APPS, STORAGES

# A record kind only the tests declare: it proves that a new kind needs no edit in crm or
# contacts, by passing the whole contract suite (tests/records/).
INSTALLED_APPS = [*INSTALLED_APPS, "tests.projects"]

# No collectstatic before tests: serve files from the finders, without the manifest.
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Unit tests run tasks in-process; tests marked `worker` use a real worker on Redis.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# Serve static files from the finders, re-scanned per request, as under `make run`.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
