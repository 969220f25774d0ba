"""Shared by the benchmarks: run a measurement on SQLite and in a scratch PostgreSQL database.

A runner's ``main`` calls :func:`run_on_each_database` with its own command line; each child run
(``--only sqlite|postgresql``, settings are read once per process) sets Django up with
:func:`child_django` and measures.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def child_django(only: str, prefix: str) -> Iterator[str]:
    """Set Django up for a child run on ``only`` ("sqlite" or "postgresql") with a temporary data dir.

    Yields the database's label ("SQLite" or "PostgreSQL"); the data dir is removed afterwards.
    """
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        os.environ["QIANTOU_DATA_DIR"] = tmp
        os.environ["DJANGO_SETTINGS_MODULE"] = "qiantou.settings"
        if only == "sqlite":
            os.environ.pop("DATABASE_URL", None)
        import django

        django.setup()
        yield "SQLite" if only == "sqlite" else "PostgreSQL"


def run_on_each_database(argv: list[str], suffix: str) -> int:
    """Run ``argv --only sqlite``, then in a scratch PostgreSQL database when DATABASE_URL names one.

    Returns the exit statuses or-ed together.
    """
    code = subprocess.call([*argv, "--only", "sqlite"])
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        code |= run_in_scratch_postgres(url, argv, suffix)
    return code


def run_in_scratch_postgres(url: str, argv: list[str], suffix: str) -> int:
    """Run ``argv --only postgresql`` against a new database ``<name>_<suffix>`` beside ``url``'s.

    ``url`` is a ``postgres://`` DATABASE_URL whose role may create databases. Returns the exit status.
    """
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(url)
    scratch = f"{cfg['NAME']}_{suffix}"
    conninfo = psycopg.conninfo.make_conninfo(
        dbname="postgres",
        host=str(cfg["HOST"]),
        port=str(cfg["PORT"] or 5432),
        user=str(cfg["USER"]),
        password=str(cfg["PASSWORD"]),
    )
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
        conn.execute(f'CREATE DATABASE "{scratch}"')
    try:
        env = dict(os.environ, DATABASE_URL=url.rsplit("/", 1)[0] + "/" + scratch)
        return subprocess.call([*argv, "--only", "postgresql"], env=env)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
