"""Reads of the web import flow: a user sees only their own uploads."""

from __future__ import annotations

from typing import Any

from django.http import Http404

from qiantou.imports.models import ImportUpload
from qiantou.units.models import Unit
from qiantou.units.resolver import get_resolver

__all__ = ["import_upload_get_for", "unit_candidates"]


def import_upload_get_for(user: Any, token: str) -> ImportUpload:
    """The user's own pending upload with this token; 404 for anything else."""
    pk = getattr(user, "pk", None)
    upload = ImportUpload.objects.filter(token=token, user_id=pk).first() if pk is not None else None
    if upload is None:
        raise Http404
    return upload


def unit_candidates(name: str, query: str = "", *, limit: int = 20) -> list[Unit]:
    """Active directory units to offer for a printed name: the resolver's candidates first, then the
    units whose name, short name or former name contains ``query`` (all normalised)."""
    resolver = get_resolver()
    codes = [c.code for c in resolver.resolve(name).candidates]
    if query.strip():
        codes += [r.code for r in resolver.search(query.strip())]
    codes = list(dict.fromkeys(codes))[:limit]
    units = {u.code: u for u in Unit.objects.filter(code__in=codes, active=True)}
    return [units[c] for c in codes if c in units]
