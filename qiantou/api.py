"""The REST API (django-ninja): one NinjaAPI, one router per app, OpenAPI at /api/openapi.json."""

from __future__ import annotations

from importlib import import_module

from ninja import NinjaAPI

api = NinjaAPI(title="Qiantou API", version="1", urls_namespace="api")

# Each app that serves the API has an ``api.py`` with ``router``; mounted under /api/<prefix>/.
for _module, _prefix in [
    ("qiantou.units.api", "units"),
    ("qiantou.plans.api", "plans"),
    ("qiantou.audit.api", "audit"),
    ("qiantou.consultation.api", "consultation"),
    ("qiantou.chasing.api", "chasing"),
    ("qiantou.assessment.api", "assessment"),
    ("qiantou.allocation.api", "allocation"),
    ("qiantou.matching.api", "matching"),
]:
    try:
        _router = import_module(_module).router
    except ModuleNotFoundError as exc:  # an app without an API yet
        if exc.name != _module:
            raise
        continue
    api.add_router(f"/{_prefix}/", _router)
