"""Settings for the CRM: one module, every deployment difference read from the environment.

Every variable read here is listed, with its default, in `.env.example`.
"""

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

PRODUCT_NAME = "Kestrel CRM"

# --- Core ---------------------------------------------------------------------------------

DEBUG = env.bool("DEBUG", default=False)

# A key that signs sessions, password-reset links and invitations: a development key is
# only tolerated while DEBUG is on.
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (generate one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`). For development, "
            '`make manage ARGS="…"` runs manage.py with DEBUG on.'
        )
    # Bandit B105: a known key on purpose, used only while DEBUG is on (see above).
    SECRET_KEY = "development-only-insecure-key-do-not-use-in-production"  # noqa: S105  # nosec B105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
# The address people open the CRM at: links in emails sent by workers, which have no request.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_htmx",
    "django_filters",
    "template_partials.apps.SimpleAppConfig",
    "csp",
    "crm",
    "contacts",
    "interactions",
    "sales",
    "support",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "crm.middleware.SessionTimeoutMiddleware",
    "crm.middleware.AuditIPMiddleware",
    # After messages: it may send a member to set up two-factor with a message.
    "crm.middleware.OrganizationMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "crm.middleware.PermissionsPolicyMiddleware",
]

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "crm.context_processors.ui",
            ],
            "loaders": [
                (
                    "template_partials.loader.Loader",
                    [
                        (
                            "django.template.loaders.cached.Loader",
                            [
                                "django.template.loaders.filesystem.Loader",
                                "django.template.loaders.app_directories.Loader",
                            ],
                        )
                    ],
                )
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    }
]

# --- Database: PostgreSQL, UTC ------------------------------------------------------------

# `make run` and `make test` set DATABASE_URL to an embedded server when it is unset.
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# The role web, workers and tests run as, and the owner connection that runs migrations.
# In development `crm.dev` creates both roles on a superuser URL and sets both variables.
DATABASE_APP_USER = DATABASES["default"]["USER"]
DATABASE_OWNER_URL = env.str("DATABASE_OWNER_URL", default="")

USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en"
USE_I18N = True

# --- Redis: Celery broker, cache, rate limits ---------------------------------------------


def _redis_db(url: str, db: int) -> str:
    """The same Redis server as `url`, another logical database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{db}"))


REDIS_URL = env.str("REDIS_URL")
# The cache lives in its own logical database so that clearing it never drops queued tasks.
REDIS_CACHE_URL = env.str("REDIS_CACHE_URL", default=_redis_db(REDIS_URL, 1))

CACHES = {
    "default": {
        "BACKEND": "crm.cache.RedisCache",
        "LOCATION": REDIS_CACHE_URL,
        "OPTIONS": {
            "serializer": "crm.cache.JSONSerializer",  # never pickles
            # A Redis that does not answer is given up on quickly (crm.cache carries on).
            "socket_connect_timeout": 1,
            "socket_timeout": 2,
        },
        "KEY_PREFIX": "crm",
        "TIMEOUT": 300,
    }
}
# Sessions are kept in the database and read from the cache: a page costs no session query,
# and a cache cleared or lost logs nobody out.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# A signed-in session ends after this many hours without a request, and this many days
# after its sign-in whatever happens (crm.middleware.SessionTimeoutMiddleware).
SESSION_IDLE_HOURS = env.int("SESSION_IDLE_HOURS", default=12)
SESSION_MAX_DAYS = env.int("SESSION_MAX_DAYS", default=7)
SESSION_COOKIE_AGE = SESSION_IDLE_HOURS * 3600

# --- Celery -------------------------------------------------------------------------------

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
# The queue tasks are sent to and workers read when started without -Q. Several deployments
# (staging beside production, each test run) can share one Redis, each with its own queue;
# web, worker and beat of one deployment must use the same name.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="celery")
# A task is acknowledged after it ran, so a worker that dies mid-task loses nothing;
# every task must therefore be safe to run twice.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=25 * 60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
# Redis redelivers an unacknowledged task after this long: it must exceed the longest task,
# or a slow task would be run a second time while the first is still going. A worker looks
# for such tasks (of a worker that died) every CELERY_RESTORE_SECONDS; kombu's own period,
# about 100 s, is the default: every 10 s, scanning Redis on every tenth look.
_restore_seconds = env.int("CELERY_RESTORE_SECONDS", default=100)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 2 * CELERY_TASK_TIME_LIMIT,
    "unacked_restore_interval": min(_restore_seconds, 10),
    "unacked_restore_throttle": max(_restore_seconds // 10, 1),
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = CELERY_BROKER_TRANSPORT_OPTIONS
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# What a task prints (the console mail backend in development) stays readable on stdout.
CELERY_WORKER_REDIRECT_STDOUTS = False
# The platform's jobs; each app adds its own from AppConfig.ready() (crm.contributions),
# which crm.celery merges in when beat starts.
# A job (an import, an export) whose task shows no sign of life for this long is stalled:
# its page says so, and it is sent again (crm.jobs).
JOB_STALE_SECONDS = env.int("JOB_STALE_SECONDS", default=90)
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "heartbeat": {"task": "crm.heartbeat", "schedule": 60.0},
    # Sends again the task of an import or export whose worker died (crm.jobs).
    "jobs-resume": {"task": "crm.jobs_resume", "schedule": 60.0},
    # Runs a nightly job that an outage let slip, once it is over (crm.schedule.catch_up).
    "catch-up": {"task": "crm.catch_up", "schedule": 300.0},
    # Tenant jobs go through crm.fan_out, which sends one task per organisation.
    "duplicates-find": {
        "task": "crm.fan_out",
        "schedule": crontab(hour=2, minute=30),
        "args": ["records.duplicates_find"],
    },
    "trash-purge": {
        "task": "crm.fan_out",
        "schedule": crontab(hour=3, minute=15),
        "args": ["records.trash_purge"],
    },
    "exports-purge": {
        "task": "crm.fan_out",
        "schedule": crontab(hour=3, minute=45),
        "args": ["records.exports_purge"],
    },
    "imports-purge": {
        "task": "crm.fan_out",
        "schedule": crontab(hour=4, minute=0),
        "args": ["records.imports_purge"],
    },
}

# --- Accounts: django-allauth, MFA --------------------------------------------------------

AUTH_USER_MODEL = "crm.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{PRODUCT_NAME}] "
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
# The link in the confirmation mail, opened in the browser that signed up, signs the new
# owner in and takes them to their organisation.
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
# Sign-up also creates the person's organisation, or joins the one that invited them.
ACCOUNT_FORMS = {"signup": "crm.forms.SignupForm"}
ACCOUNT_ADAPTER = "crm.accounts.AccountAdapter"
# allauth's rate limits (sign-ups, resets, codes) stay on their defaults and count in the
# Redis cache, so they hold across web processes. Failed sign-ins count per client address
# only: per account, crm.lockout makes each failure past the fifth wait longer instead of
# locking the account, and a code sent to the account's email signs its owner in meanwhile.
ACCOUNT_RATE_LIMITS = {"login_failed": "20/m/ip"}
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
# The proxies in front of the app that each append the address they saw to
# X-Forwarded-For (1 behind one TLS proxy; 0, the default, trusts no such header). The
# rate limits and the audit log take the client's address from the same count.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
# Passkeys (WebAuthn) join authenticator apps: a passkey is a second factor after the
# password, or signs in on its own ("Sign in with a passkey").
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = PRODUCT_NAME

# --- Email --------------------------------------------------------------------------------

# consolemail:// prints messages to the terminal; smtp+tls://user:pass@host:587 sends them.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
if vars().get("EMAIL_BACKEND") == "django.core.mail.backends.console.EmailBackend":
    vars()["EMAIL_BACKEND"] = "crm.mail.FramedConsoleBackend"  # easy to find among the logs
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="crm@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Seconds a mail server may take to answer before a send fails (and is retried).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)

# --- Static files: WhiteNoise -------------------------------------------------------------

STATIC_URL = "/static/"
# A relative path is taken from the project's folder, never from where a process started.
STATIC_ROOT = BASE_DIR / env.str("STATIC_ROOT", default="staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = BASE_DIR / env.str("MEDIA_ROOT", default=".data/media")
# Where the files of imports and exports live, read and written by web and workers alike
# (crm.files): a folder (MEDIA_ROOT), or S3-compatible object storage ("s3"), private,
# read through the app.
FILE_STORAGE = env.str("FILE_STORAGE", default="folder")
if FILE_STORAGE == "s3":
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("S3_BUCKET"),
            "location": env.str("S3_PREFIX", default=""),
            "endpoint_url": env.str("S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("S3_REGION", default="") or None,
            # Unset: boto3 finds credentials itself (an instance role, its own variables).
            "access_key": env.str("S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("S3_SECRET_ACCESS_KEY", default="") or None,
            "default_acl": None,
            "file_overwrite": True,
        },
    }
elif FILE_STORAGE != "folder":
    raise ImproperlyConfigured(f"FILE_STORAGE is 'folder' or 's3', not {FILE_STORAGE!r}.")
# Export files (and their jobs) are deleted this many days after they were asked for.
EXPORT_KEEP_DAYS = env.int("EXPORT_KEEP_DAYS", default=7)
# Imports refuse a file larger than this, or with more rows than this.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=50 * 1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=200_000)
# The largest raw message /inbound/email/<token>/ reads; larger ones are refused (413).
INBOUND_EMAIL_MAX_BYTES = env.int("INBOUND_EMAIL_MAX_BYTES", default=25 * 1024 * 1024)
# Of an inbound message's attachments, those over this size are not kept (the message is,
# with their names), nor those past the first INBOUND_ATTACHMENT_MAX_COUNT.
INBOUND_ATTACHMENT_MAX_BYTES = env.int("INBOUND_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
INBOUND_ATTACHMENT_MAX_COUNT = env.int("INBOUND_ATTACHMENT_MAX_COUNT", default=20)
# A workbook that unpacks to more than this is refused before it is read.
IMPORT_MAX_UNPACKED_BYTES = env.int("IMPORT_MAX_UNPACKED_BYTES", default=200 * 1024 * 1024)
# The memory a worker may take to read one import's file (Linux); past it the import fails
# with a message and the worker carries on. 0: no cap.
IMPORT_READ_MEMORY_MB = env.int("IMPORT_READ_MEMORY_MB", default=1024)
# An import never run (only uploaded or checked) is forgotten, with its file, after this.
IMPORT_KEEP_DAYS = env.int("IMPORT_KEEP_DAYS", default=7)
# Only an import takes a file, and only one: a request carrying more is a 400 before any of
# them is written (Django's default lets a request carry 100, each up to the size limit).
DATA_UPLOAD_MAX_NUMBER_FILES = 1
# An upload larger than IMPORT_MAX_BYTES is refused as it arrives (crm.uploads).
FILE_UPLOAD_HANDLERS = [
    "crm.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# --- Security -----------------------------------------------------------------------------

SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Features no page uses, refused to every page and anything it might embed
# (crm.middleware.PermissionsPolicyMiddleware).
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), "
    "magnetometer=(), microphone=(), midi=(), payment=(), usb=(), interest-cohort=()"
)

# No inline script or style anywhere: behaviour lives in static/js, looks in static/css.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# --- Logging: one JSON object per line on stdout ------------------------------------------

# "json" (one object a line, for a log shipper) or "text" (for a person at a terminal).
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "crm.logging.JsonFormatter"},
        "text": {"()": "crm.logging.TextFormatter"},
    },
    "filters": {"quiet_requests": {"()": "crm.logging.QuietRequests"}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "text",
            "filters": ["quiet_requests"],
        }
    },
    "root": {"handlers": ["stdout"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Replace Django's own DEBUG console handlers, which would print every line twice.
        "django": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
    },
}
