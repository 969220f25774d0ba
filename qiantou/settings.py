"""Qiantou settings: one env-driven module (healthchecks style).

SQLite in WAL mode by default (``QIANTOU_DATA_DIR/qiantou.sqlite3``); PostgreSQL when
``DATABASE_URL`` names it (``postgres://user:pass@host:5432/name``).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    """Read a boolean environment variable (``1/true/yes/on`` are true)."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    """Read an integer environment variable."""
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def env_secret(name: str, default: str = "") -> str:
    """A secret from ``NAME_FILE`` (a file path, e.g. a container secret) or else ``NAME`` itself."""
    path = os.environ.get(name + "_FILE")
    if path:
        return Path(path).read_text(encoding="utf-8").strip()
    return os.environ.get(name) or default


#: ``QIANTOU_PRODUCTION=1``: TLS-only cookies, HSTS, HTTPS redirect, no DEBUG, a real secret key
#: (``qiantou check --deploy`` is clean with it). See README "Secure deployment".
PRODUCTION = env_bool("QIANTOU_PRODUCTION", False)


DATA_DIR = Path(os.environ.get("QIANTOU_DATA_DIR", BASE_DIR / "var"))
DATA_DIR.mkdir(parents=True, exist_ok=True)
DEBUG = env_bool("QIANTOU_DEBUG", False) and not PRODUCTION
_DEV_SECRET_KEY = "insecure-dev-key-change-me-" + "0" * 32
SECRET_KEY = env_secret("QIANTOU_SECRET_KEY", _DEV_SECRET_KEY)
if PRODUCTION and (SECRET_KEY == _DEV_SECRET_KEY or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured(
        "QIANTOU_PRODUCTION=1 needs QIANTOU_SECRET_KEY or QIANTOU_SECRET_KEY_FILE"
        " (at least 50 random characters)"
    )
ALLOWED_HOSTS = [
    h for h in os.environ.get("QIANTOU_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "rules.apps.AutodiscoverRulesConfig",
    "django_tasks_db",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "qiantou.accounts",
    "qiantou.audit",
    "qiantou.units",
    "qiantou.plans",
    "qiantou.consultation",
    "qiantou.approvals",
    "qiantou.notifications",
    "qiantou.chasing",
    "qiantou.assessment",
    "qiantou.allocation",
    "qiantou.matching",
    "qiantou.web",
    "qiantou.security",
    "qiantou.ops",
    "qiantou.imports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Refuse oversized bodies (413) and uploads whose content is not what they claim (400), early.
    "qiantou.security.middleware.RequestLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # 429 on too many login attempts per address and too many API calls per credential.
    "qiantou.security.middleware.RateLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Idle timeout, forced change of the initial password, the TOTP second step.
    "qiantou.security.middleware.SessionGuardMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Downloads (attachments) carry the exporting user and time, and are recorded.
    "qiantou.security.middleware.ExportStampMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Must be last: turns django-axes' lockout signal into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "qiantou.urls"
WSGI_APPLICATION = "qiantou.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "qiantou" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------
_SQLITE_OPTIONS = {
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN so two
    # writers queue on busy_timeout instead of failing with "database is locked" mid-transaction.
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
}
_database_url = env_secret("DATABASE_URL")  # or DATABASE_URL_FILE (the password stays out of the env)
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        DATABASES["default"]["OPTIONS"] = dict(_SQLITE_OPTIONS)
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "qiantou.sqlite3"),
            "OPTIONS": dict(_SQLITE_OPTIONS),
            "CONN_MAX_AGE": 60,
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username before any password is checked (django-axes).
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Letters, digits and symbols (等保2.0 三级 口令复杂度).
    {"NAME": "qiantou.security.validators.ComplexityValidator"},
]

# --- Locale: zh-Hans first, English second; calendar dates in Asia/Shanghai ----------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "qiantou" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "qiantou" / "static"]
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "media/"

# --- Background work: django.tasks with the database backend -------------------------------------
TASKS = {
    "default": {
        "BACKEND": os.environ.get("QIANTOU_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# --- The accountability record ------------------------------------------------------------------
# "sm3" (GB/T 32905-2016, via the cryptography package) or "sha256".
AUDIT_HASH_ALGORITHM = os.environ.get("QIANTOU_AUDIT_HASH", "sm3")

# --- Mail ---------------------------------------------------------------------------------------
# Django 6.1's MAILERS (EMAIL_HOST/EMAIL_PORT are deprecated); tests swap in the memory backend.
MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": os.environ.get("QIANTOU_SMTP_HOST", "127.0.0.1"),
            "port": int(os.environ.get("QIANTOU_SMTP_PORT", "1025")),
        },
    }
}
DEFAULT_FROM_EMAIL = os.environ.get("QIANTOU_MAIL_FROM", "qiantou@localhost")

# --- Uploads --------------------------------------------------------------------------------------
# Largest plan file the importer accepts, bytes (issue: "a 200 MB file" is refused with a message).
QIANTOU_MAX_UPLOAD_BYTES = int(os.environ.get("QIANTOU_MAX_UPLOAD_BYTES", str(60 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Security (issue 9; README "Secure deployment") ----------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie; kept readable
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
#: Logged out after this many minutes without a request (``SessionGuardMiddleware``).
QIANTOU_SESSION_IDLE_MINUTES = env_int("QIANTOU_SESSION_IDLE_MINUTES", 30)
#: Absolute session lifetime; the cookie also ends with the browser.
SESSION_COOKIE_AGE = env_int("QIANTOU_SESSION_MAX_HOURS", 12) * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("QIANTOU_CSRF_TRUSTED_ORIGINS", "").split(",") if o]
# Content-Security-Policy (Django's own middleware): scripts only from this site, never inline.
# Inline *styles* stay allowed (style attributes in templates, htmx's indicator style, SVG charts).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("QIANTOU_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("QIANTOU_HSTS_SECONDS", 365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("QIANTOU_HSTS_PRELOAD", True)
    SECURE_CSP["upgrade-insecure-requests"] = True  # type: ignore[assignment]
if env_bool("QIANTOU_BEHIND_TLS_PROXY", False):
    # TLS ends at the reverse proxy (nginx), which must set X-Forwarded-Proto itself.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Login lockout (django-axes): N failures for one username lock it for the cool-off period.
AXES_FAILURE_LIMIT = env_int("QIANTOU_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("QIANTOU_LOCKOUT_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = ["username"]
# Lockout is per username (an office behind one NAT address must not lock itself out); guessing from
# one address is throttled by QIANTOU_RATE_LOGIN instead, which axes' W006 cannot see.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
# The lock ends one period after it began; tries during it are refused and recorded, not counted.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_TEMPLATE = "security/lockout.html"
AXES_HTTP_RESPONSE_CODE = 403
AXES_DISABLE_ACCESS_LOG = True  # logins are in the accountability record instead
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = env_int("QIANTOU_PROXY_COUNT", 0) or None
OTP_TOTP_ISSUER = "牵头协同平台"
#: Roles that may add a TOTP second factor (administrators and approvers).
QIANTOU_OTP_ROLES = [
    "system_admin",
    "security_admin",
    "security_auditor",
    "unit_head",
    "leader_in_charge",
    "principal",
]
#: Roles that must use it (comma-separated env; empty = optional for everyone).
QIANTOU_OTP_REQUIRED_ROLES = [r for r in os.environ.get("QIANTOU_OTP_REQUIRED_ROLES", "").split(",") if r]

# Rate limits, "COUNT/SECONDS": login POSTs per client address; API calls per credential.
QIANTOU_RATE_LOGIN = os.environ.get("QIANTOU_RATE_LOGIN", "30/60")
QIANTOU_RATE_API = os.environ.get("QIANTOU_RATE_API", "600/60")
#: Largest request body accepted at all (413 above it): the largest upload plus form overhead.
QIANTOU_MAX_REQUEST_BYTES = env_int("QIANTOU_MAX_REQUEST_BYTES", QIANTOU_MAX_UPLOAD_BYTES + 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
DATA_UPLOAD_MAX_NUMBER_FILES = 50
#: Data-check files (round files, results, kept registry) are deleted this many days after the run
#: last changed (``qiantou retention_purge``, recorded as ``matching.retention_delete``).
QIANTOU_MATCHING_RETENTION_DAYS = env_int("QIANTOU_MATCHING_RETENTION_DAYS", 30)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("QIANTOU_LOG_LEVEL", "WARNING")},
}
