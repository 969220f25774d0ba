"""Qiantou settings: one env-driven module (healthchecks style).

SQLite in WAL mode by default (``QIANTOU_DATA_DIR/qiantou.sqlite3``); PostgreSQL when
``DATABASE_URL`` names it (``postgres://user:pass@host:5432/name``).
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    """Read a boolean environment variable (``1/true/yes/on`` are true)."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DATA_DIR = Path(os.environ.get("QIANTOU_DATA_DIR", BASE_DIR / "var"))
DATA_DIR.mkdir(parents=True, exist_ok=True)
DEBUG = env_bool("QIANTOU_DEBUG", False)
SECRET_KEY = os.environ.get("QIANTOU_SECRET_KEY") or "insecure-dev-key-change-me-" + "0" * 32
if os.environ.get("QIANTOU_SECRET_KEY_FILE"):
    SECRET_KEY = Path(os.environ["QIANTOU_SECRET_KEY_FILE"]).read_text(encoding="utf-8").strip()
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
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
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
_database_url = os.environ.get("DATABASE_URL", "")
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
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
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
EMAIL_HOST = os.environ.get("QIANTOU_SMTP_HOST", "127.0.0.1")
EMAIL_PORT = int(os.environ.get("QIANTOU_SMTP_PORT", "1025"))
DEFAULT_FROM_EMAIL = os.environ.get("QIANTOU_MAIL_FROM", "qiantou@localhost")

# --- Uploads --------------------------------------------------------------------------------------
# Largest plan file the importer accepts, bytes (issue: "a 200 MB file" is refused with a message).
QIANTOU_MAX_UPLOAD_BYTES = int(os.environ.get("QIANTOU_MAX_UPLOAD_BYTES", str(60 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("QIANTOU_LOG_LEVEL", "WARNING")},
}
