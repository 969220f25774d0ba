"""Shared by the benchmarks: run a measurement in a scratch PostgreSQL database, dropped afterwards."""

from __future__ import annotations

import os
import subprocess


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
