"""REST API of allocation, mounted at ``/api/allocation/`` (see ``qiantou/api.py``).

``GET suggest?text=&top=`` — ranked lead units with evidence; ``GET load?start=&end=`` — per-unit load.
Authentication is the API-wide list (bearer token or session).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Router

from qiantou.allocation.selectors import unit_loads
from qiantou.allocation.suggestion import suggest_lead_units

router = Router(tags=["allocation"])


def _user(request: HttpRequest) -> Any:
    auth = getattr(request, "auth", None)
    return auth if getattr(auth, "is_authenticated", False) else request.user


@router.get("suggest")
def suggest(request: HttpRequest, text: str, top: int = 5) -> list[dict[str, Any]]:
    """Lead units ranked by mandate fit for ``text`` (1–20 results), with matched terms and phrases."""
    return [s.as_dict() for s in suggest_lead_units(text[:4000], top=top)]


@router.get("load")
def load(
    request: HttpRequest, start: dt.date | None = None, end: dt.date | None = None
) -> list[dict[str, Any]]:
    """Per-unit load in the period, heaviest first (403 for users outside the business roles)."""
    return [
        {
            "unit_id": u.unit_id,
            "name": u.name,
            "score": u.score,
            "lead_tasks": u.lead_tasks,
            "cooperating_tasks": u.cooperating_tasks,
            "lead_weight": str(u.lead_weight),
            "cooperating_weight": str(u.cooperating_weight),
            "requests_due": u.requests_due,
            "overdue": u.overdue,
        }
        for u in unit_loads(user=_user(request), start=start, end=end)
    ]
